//! The HTTP request an adapter builds and the answer a transport brings
//! back: plain data, no I/O (the edge Worker, the native transport and the
//! tests each send them their own way).

use std::fmt;

use super::secrets;

/// A service's answer with secrets replaced (`ScrubbedResponse::new`), owned
/// so a parser can borrow it as an [`HttpResponse`].
pub(crate) struct ScrubbedResponse {
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
}

impl ScrubbedResponse {
    pub(crate) fn new(resp: &HttpResponse, forms: &[String]) -> Self {
        ScrubbedResponse {
            status: resp.status,
            content_type: resp.content_type.map(|c| secrets::scrub(c, forms)),
            body: secrets::scrub(&String::from_utf8_lossy(resp.body), forms).into_bytes(),
        }
    }
    pub(crate) fn view(&self) -> HttpResponse<'_> {
        HttpResponse {
            status: self.status,
            content_type: self.content_type.as_deref(),
            body: &self.body,
        }
    }
}

/// An HTTP request to send as is.
#[derive(Clone, PartialEq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl fmt::Debug for HttpRequest {
    /// Headers are listed by name only: one of them usually holds a secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        write!(
            f,
            "HttpRequest({} {}, headers {:?}, {} bytes)",
            self.method,
            self.url,
            names,
            self.body.len()
        )
    }
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP answer as the transport received it.
#[derive(Debug, Clone, Copy)]
pub struct HttpResponse<'a> {
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}
