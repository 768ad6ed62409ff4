//! A minimal HTTP/1.1 client transport for WS-Man: one request/response at a time on a
//! keep-alive connection, `Content-Length` and chunked bodies, no TLS here.
//!
//! The stream type is generic (`AsyncRead + AsyncWrite`), so a TLS stream can be used by the
//! connector in [`crate::client`] without changing this module.

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// Errors of the HTTP layer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Socket error.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The peer sent something that is not HTTP/1.x.
    #[error("malformed HTTP response: {0}")]
    Malformed(String),
    /// The peer closed the connection before a full response.
    #[error("the device closed the connection")]
    Closed,
}

/// A response: status, headers (names lower-cased), body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased, in order (repeated headers kept).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// First header value with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// All values of a header.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the server asked to close the connection.
    pub fn wants_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

const MAX_HEADER_LINE: usize = 16 * 1024;
const MAX_BODY: usize = 64 * 1024 * 1024;

/// A keep-alive HTTP/1.1 connection.
#[derive(Debug)]
pub struct Connection<S> {
    stream: BufReader<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// Wraps a connected stream.
    pub fn new(stream: S) -> Self {
        Connection {
            stream: BufReader::new(stream),
        }
    }

    /// Sends `POST path` with the given extra headers and body, and reads the response.
    pub async fn post(
        &mut self,
        host: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<HttpResponse, HttpError> {
        let mut req = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/soap+xml; charset=utf-8\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            req.push_str(k);
            req.push_str(": ");
            req.push_str(v);
            req.push_str("\r\n");
        }
        req.push_str("\r\n");
        let w = self.stream.get_mut();
        w.write_all(req.as_bytes()).await?;
        w.write_all(body).await?;
        w.flush().await?;
        read_response(&mut self.stream).await
    }
}

async fn read_line<R: AsyncRead + Unpin>(r: &mut BufReader<R>) -> Result<String, HttpError> {
    let mut buf = Vec::new();
    let n = (&mut *r)
        .take(MAX_HEADER_LINE as u64)
        .read_until(b'\n', &mut buf)
        .await?;
    if n == 0 {
        return Err(HttpError::Closed);
    }
    if buf.last() != Some(&b'\n') {
        return Err(HttpError::Malformed("header line too long".into()));
    }
    let s = String::from_utf8_lossy(&buf);
    Ok(s.trim_end_matches(['\r', '\n']).to_owned())
}

/// Reads one HTTP/1.x response from a buffered stream.
pub async fn read_response<R: AsyncRead + Unpin>(r: &mut BufReader<R>) -> Result<HttpResponse, HttpError> {
    let status_line = read_line(r).await?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(HttpError::Malformed(format!("status line {status_line:?}")));
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| HttpError::Malformed(format!("status line {status_line:?}")))?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(r).await?;
        if line.is_empty() {
            break;
        }
        if headers.len() > 200 {
            return Err(HttpError::Malformed("too many headers".into()));
        }
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| HttpError::Malformed(format!("header {line:?}")))?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let find = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if find("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        loop {
            let size_line = read_line(r).await?;
            let size_hex = size_line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_hex, 16)
                .map_err(|_| HttpError::Malformed(format!("chunk size {size_line:?}")))?;
            if size == 0 {
                // Trailers until the empty line.
                while !read_line(r).await?.is_empty() {}
                break;
            }
            if body.len() + size > MAX_BODY {
                return Err(HttpError::Malformed("body too large".into()));
            }
            let start = body.len();
            body.resize(start + size, 0);
            r.read_exact(&mut body[start..]).await?;
            let crlf = read_line(r).await?;
            if !crlf.is_empty() {
                return Err(HttpError::Malformed("missing CRLF after chunk".into()));
            }
        }
    } else if let Some(len) = find("content-length") {
        let len: usize = len
            .trim()
            .parse()
            .map_err(|_| HttpError::Malformed(format!("content-length {len:?}")))?;
        if len > MAX_BODY {
            return Err(HttpError::Malformed("body too large".into()));
        }
        body.resize(len, 0);
        r.read_exact(&mut body).await?;
    } else if status != 204 && status != 304 && status >= 200 {
        (&mut *r).take(MAX_BODY as u64).read_to_end(&mut body).await?;
    }
    Ok(HttpResponse { status, headers, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn chunked_and_length() {
        let raw = b"HTTP/1.1 200 OK\r\nServer: Intel(R) Active Management Technology 15.0.23.1706\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nHTTP/1.1 401 Unauthorized\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc";
        let mut r = BufReader::new(&raw[..]);
        let a = read_response(&mut r).await.expect("first");
        assert_eq!(a.status, 200);
        assert_eq!(a.body, b"hello world");
        assert!(a.header("server").is_some_and(|s| s.contains("15.0.23")));
        let b = read_response(&mut r).await.expect("second");
        assert_eq!((b.status, b.body.as_slice(), b.wants_close()), (401, &b"abc"[..], true));
        assert!(matches!(read_response(&mut r).await, Err(HttpError::Closed)));
        let mut bad = BufReader::new(&b"SSH-2.0\r\n\r\n"[..]);
        assert!(read_response(&mut bad).await.is_err());
        let mut bad = BufReader::new(&b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"[..]);
        assert!(read_response(&mut bad).await.is_err());
    }
}
