//! WS-Man client (placeholder).
