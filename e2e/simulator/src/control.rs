//! The control API: JSON over HTTP on a separate address, for tests and the lab.
//!
//! | Route | Effect |
//! |---|---|
//! | `GET /devices` | summary of every device |
//! | `GET /devices/{n}` | full state of device n (audit log decoded, with initiators) |
//! | `POST /devices/{n}/state` | JSON merge patch of the state, e.g. `{"power_state": 8}` |
//! | `POST /devices/{n}/faults` | replace fault injection, e.g. `{"hang": true}` (`{}` clears) |
//! | `POST /devices/{n}/redirection-open` | `{"open": true}` (default) or `false` |
//! | `POST /devices/{n}/sol-drop` | cut the device's SOL console connection without a word (`{"was_open": bool}`) |
//! | `POST /devices/{n}/reset` | restore device n's seeded state |
//! | `POST /reset` | restore every device's seeded state |
//!
//! The same operations exist as Rust functions on [`crate::fleet::Device`].

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::fleet::FleetHandle;
use crate::state::Faults;

/// Binds the control API and serves it until the fleet shuts down.
pub async fn serve(addr: SocketAddr, fleet: FleetHandle) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let mut shutdown = fleet.shutdown.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                r = listener.accept() => {
                    let Ok((stream, _)) = r else { continue };
                    let fleet = fleet.clone();
                    tokio::spawn(async move {
                        let svc = service_fn(move |req| route(req, fleet.clone()));
                        let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                    });
                }
                _ = shutdown.changed() => break,
            }
        }
    });
    Ok(local)
}

fn reply(status: StatusCode, v: Value) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

fn error(status: StatusCode, msg: &str) -> Result<Response<Full<Bytes>>, Infallible> {
    reply(status, json!({ "error": msg }))
}

async fn route(req: hyper::Request<Incoming>, fleet: FleetHandle) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().clone();
    let path: Vec<String> = req
        .uri()
        .path()
        .trim_matches('/')
        .split('/')
        .map(str::to_string)
        .collect();
    let body = match Limited::new(req.into_body(), 1 << 20).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return error(StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
    };
    let json_body = || -> Result<Value, String> {
        if body.is_empty() {
            Ok(json!({}))
        } else {
            serde_json::from_slice(&body).map_err(|e| e.to_string())
        }
    };
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match (&method, p.as_slice()) {
        (&Method::GET, ["devices"]) => {
            let list: Vec<Value> = fleet
                .devices
                .iter()
                .map(|d| {
                    let st = d.snapshot();
                    json!({
                        "n": d.index, "address": d.addr.to_string(), "fqdn": st.fqdn,
                        "amt_version": st.amt_version, "power_state": st.power_state,
                        "krb_enabled": st.kerberos.enabled, "faults": st.faults,
                        "redirection_session_open": st.redirection.session_open,
                        "sol_connected": d.sol_connected(),
                    })
                })
                .collect();
            reply(StatusCode::OK, Value::Array(list))
        }
        (&Method::POST, ["reset"]) => {
            for d in fleet.devices.iter() {
                d.reset();
            }
            reply(StatusCode::OK, json!({ "reset": fleet.devices.len() }))
        }
        (m, ["devices", n, rest @ ..]) => {
            let Some(dev) = n.parse::<u32>().ok().and_then(|n| fleet.device(n)) else {
                return error(StatusCode::NOT_FOUND, "no such device");
            };
            match (m, rest) {
                (&Method::GET, []) => reply(StatusCode::OK, dev.view()),
                (&Method::POST, ["state"]) => match json_body() {
                    Ok(patch) => match dev.patch(&patch) {
                        Ok(()) => reply(StatusCode::OK, dev.view()),
                        Err(e) => error(StatusCode::BAD_REQUEST, &e.to_string()),
                    },
                    Err(e) => error(StatusCode::BAD_REQUEST, &e),
                },
                (&Method::POST, ["faults"]) => {
                    match json_body().and_then(|v| serde_json::from_value::<Faults>(v).map_err(|e| e.to_string())) {
                        Ok(f) => {
                            dev.set_faults(f.clone());
                            reply(StatusCode::OK, json!({ "faults": f }))
                        }
                        Err(e) => error(StatusCode::BAD_REQUEST, &e),
                    }
                }
                (&Method::POST, ["redirection-open"]) => {
                    let open = json_body()
                        .ok()
                        .and_then(|v| v.get("open").and_then(Value::as_bool))
                        .unwrap_or(true);
                    match dev.set_redirection_session(open) {
                        Ok(()) => reply(StatusCode::OK, json!({ "session_open": open })),
                        Err(e) => error(StatusCode::CONFLICT, e),
                    }
                }
                (&Method::POST, ["sol-drop"]) => reply(StatusCode::OK, json!({ "was_open": dev.drop_sol() })),
                (&Method::POST, ["reset"]) => {
                    dev.reset();
                    reply(StatusCode::OK, dev.view())
                }
                _ => error(StatusCode::NOT_FOUND, "no such route"),
            }
        }
        _ => error(StatusCode::NOT_FOUND, "no such route"),
    }
}
