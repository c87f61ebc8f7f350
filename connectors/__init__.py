"""postsale connectors: extract from the sources over HTTP and load raw tables in the warehouse."""
