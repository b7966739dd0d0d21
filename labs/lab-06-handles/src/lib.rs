//! Lab for chapter 6, handle passing: file descriptors sent over a Unix socket with SCM_RIGHTS, interoperating with Node's NODE_HANDLE protocol.
