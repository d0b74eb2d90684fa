"""Loading manifests and writing files: the only layer that touches the file system."""
