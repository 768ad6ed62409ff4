//! `TestApp`: the real router (`server::app`) on a fresh SQLite database, with the lab's keytab,
//! driven in-process with `tower::ServiceExt::oneshot`. Needs the lab AD (see e2e/lab/README.md);
//! follows the LAB_ENV / REQUIRE_LAB convention of server/kerberos/tests/lab.rs.

use std::collections::HashMap;
use std::path::PathBuf;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, header};
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use server::AppState;
use server::config::Config;
use tower::ServiceExt;

pub const ORIGIN: &str = "https://portal.example.test:8443";

pub fn lab() -> Option<HashMap<String, String>> {
    lab_env::load()
}

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub lab: HashMap<String, String>,
    _dir: PathBuf,
}

impl TestApp {
    pub async fn new(name: &str) -> Option<TestApp> {
        let lab = lab()?;
        let dir = std::env::temp_dir().join(format!("portal-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let vars: HashMap<&str, String> = HashMap::from([
            ("PORTAL_KEYTAB", lab["LAB_PORTAL_KEYTAB"].clone()),
            ("PORTAL_TLS_CERT", lab["LAB_PORTAL_CERT"].clone()),
            ("PORTAL_TLS_KEY", lab["LAB_PORTAL_KEY"].clone()),
            ("PORTAL_PUBLIC_URL", ORIGIN.to_string()),
            ("PORTAL_DATABASE", dir.join("portal.sqlite").display().to_string()),
            ("PORTAL_RCACHE", format!("file2:{}", dir.join("rcache").display())),
            ("PORTAL_LDAP_URL", lab["LAB_LDAP_URL"].clone()),
            ("PORTAL_LDAP_HOST", lab["LAB_DC_HOST"].clone()),
            ("PORTAL_DEVICE_OU", format!("OU=AMT Devices,{}", lab["LAB_BASE_DN"])),
        ]);
        let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("valid test config");
        let leptos = LeptosOptions::builder()
            .output_name("portal")
            .site_root("target/site")
            .build();
        let state = AppState::new(config, leptos).await.expect("state");
        let router = server::app(state.clone()).await.expect("router");
        Some(TestApp {
            router,
            state,
            lab,
            _dir: dir,
        })
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        Reply::read(resp).await
    }

    /// `GET path` with optional Authorization and Cookie.
    pub async fn get(&self, path: &str, authorization: Option<&str>, cookie: Option<&str>) -> Reply {
        let mut b = Request::get(path);
        if let Some(a) = authorization {
            b = b.header(header::AUTHORIZATION, a);
        }
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    /// `POST path` with a form body, an Origin (None = no header) and a cookie.
    pub async fn post_form(&self, path: &str, form: &str, origin: Option<&str>, cookie: Option<&str>) -> Reply {
        let mut b = Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(b.body(Body::from(form.to_string())).unwrap()).await
    }

    /// A user's TGT from the lab (password sign-in through the portal's own acceptor).
    pub async fn tgt(&self, user: &str) -> kerberos::Delegated {
        let acc = self.state.acceptor.clone();
        let spn = self.state.config.service_principal.clone();
        let pw = self.lab["LAB_PASSWORD"].clone();
        let user = user.to_string();
        tokio::task::spawn_blocking(move || {
            kerberos::password_sign_in(&acc, &spn, &user, &pw)
                .expect("lab user signs in")
                .1
        })
        .await
        .unwrap()
    }

    /// A fresh `Negotiate` header value for `service` from `tgt`.
    pub async fn negotiate(&self, tgt: &kerberos::Delegated, service: &str, delegate: bool) -> String {
        use base64::Engine;
        let cred = tgt.cred.clone();
        let service = service.to_string();
        let tok = tokio::task::spawn_blocking(move || kerberos::token_for(&cred, &service, delegate).expect("token"))
            .await
            .unwrap();
        format!("Negotiate {}", base64::engine::general_purpose::STANDARD.encode(tok))
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    async fn read(resp: Response<Body>) -> Reply {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// `name=value` of the session cookie set by this response, if any.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("__Host-amt-portal="))
            .and_then(|v| v.split(';').next())
            .map(str::to_string)
    }

    /// The `data-reason` of the 401 page.
    pub fn reason(&self) -> Option<String> {
        let i = self.body.find("data-reason=\"")? + 13;
        Some(self.body[i..].split('"').next()?.to_string())
    }
}
