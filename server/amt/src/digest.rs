//! HTTP Digest authentication (placeholder, filled in below).
