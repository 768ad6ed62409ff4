//! Redirection protocol (placeholder).
