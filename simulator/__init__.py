"""postsale simulator: a synthetic B2B SaaS customer base behind mock HubSpot, Stripe and Mixpanel APIs.

`simulator.world.generate_world` builds a deterministic world; `simulator.server.MockApiServer`
serves it. See simulator/README.md.
"""
