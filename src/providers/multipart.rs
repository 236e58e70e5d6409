//! A `multipart/form-data` body builder (RFC 7578). The same parts always
//! give the same bytes (the boundary is derived, not random), so request
//! bodies are tested byte for byte.

use std::borrow::Cow;

/// One part: field name, (filename, content type) for files, content.
type Part<'a> = (String, Option<(String, &'static str)>, Cow<'a, [u8]>);

/// Builds one multipart body. Files are borrowed, not copied: the edge's
/// memory peak holds the images once, then the body.
#[derive(Debug, Default)]
pub struct Multipart<'a> {
    parts: Vec<Part<'a>>,
}

impl<'a> Multipart<'a> {
    pub fn new() -> Self {
        Multipart::default()
    }

    /// A text field.
    pub fn text(mut self, name: &str, value: &str) -> Self {
        self.parts.push((
            name.to_string(),
            None,
            Cow::Owned(value.as_bytes().to_vec()),
        ));
        self
    }

    /// A file field with its filename and content type.
    /// `content_type` is `'static`: one of the crate's own media types, never a
    /// string a client sent.
    pub fn file(
        mut self,
        name: &str,
        filename: &str,
        content_type: &'static str,
        bytes: &'a [u8],
    ) -> Self {
        self.parts.push((
            name.to_string(),
            Some((filename.to_string(), content_type)),
            Cow::Borrowed(bytes),
        ));
        self
    }

    /// The `Content-Type` header value and the body. The boundary is derived
    /// from the content and lengthened until no part contains it.
    pub fn finish(self) -> (String, Vec<u8>) {
        let mut boundary = format!("facebridge-{:016x}", self.fingerprint());
        while self
            .parts
            .iter()
            .any(|(_, _, b)| contains(b, boundary.as_bytes()))
        {
            boundary.push('x');
        }
        // Headers are well under 512 bytes a part: one allocation, no regrowth.
        let size: usize = self.parts.iter().map(|(_, _, b)| b.len() + 512).sum();
        let mut body = Vec::with_capacity(size + boundary.len() + 8);
        for (name, file, bytes) in &self.parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some((filename, ct)) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {ct}\r\n\r\n",
                        quote(name),
                        quote(filename)
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{}\"\r\n\r\n", quote(name)).as_bytes()),
            }
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        (format!("multipart/form-data; boundary={boundary}"), body)
    }

    /// FNV-1a over the parts: stable across runs and platforms.
    fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for (n, _, b) in &self.parts {
            for &x in n.as_bytes().iter().chain(b.iter().take(4096)) {
                h ^= x as u64;
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        h
    }
}

fn quote(s: &str) -> String {
    s.replace(['"', '\r', '\n'], "_")
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_shape_and_boundary_safety() {
        let (ct, body) = Multipart::new()
            .text("api_key", "k")
            .file("img_1", "img_1.jpg", "image/jpeg", b"\xff\xd8abc")
            .finish();
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"api_key\"\r\n\r\nk\r\n"
        )));
        assert!(text.contains(
            "name=\"img_1\"; filename=\"img_1.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
        ));
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
        // A part that contains the would-be boundary forces a longer one.
        let (ct1, _) = Multipart::new().text("a", "x").finish();
        let b1 = ct1.split('=').nth(1).unwrap().to_string();
        let (ct2, _) = Multipart::new().text("a", &format!("x{b1}")).finish();
        let b2 = ct2.split('=').nth(1).unwrap();
        assert_ne!(b1, b2);
    }
}
