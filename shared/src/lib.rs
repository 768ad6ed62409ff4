//! Types shared by the browser and the server. Serde only: this crate must build for
//! `wasm32-unknown-unknown`, so nothing here touches sockets, files, GSSAPI or SQL.
