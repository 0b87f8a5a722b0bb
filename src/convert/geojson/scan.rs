//! A structural scanner for the fast path of a GeoJSON file: it finds where each JSON value
//! starts and ends a block of the input at a time (strings and escapes tracked, nesting counted
//! and never recursed), without validating it — each value it cuts out is then validated by
//! serde_json from a slice, which is many times faster than serde_json reading an `io::Read`
//! byte by byte with line and column tracking.
//!
//! It never decides an error: anything unexpected is `Ok(false)` / `None`, and the caller falls
//! back to the exact streaming parser, which gives the error with its line and column.

use std::io::{self, BufRead};

/// The byte classes the container loop stops at.
const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    t[b'"' as usize] = 1;
    t[b'{' as usize] = 2;
    t[b'[' as usize] = 2;
    t[b'}' as usize] = 3;
    t[b']' as usize] = 3;
    t
}
static CLASS: [u8; 256] = classes();

/// Reads JSON values off a buffered input.
pub(crate) struct Scanner<R> {
    input: R,
}

impl<R: BufRead> Scanner<R> {
    pub(crate) fn new(input: R) -> Self {
        Self { input }
    }

    /// The next byte that is not JSON whitespace, not consumed; `None` at the end.
    pub(crate) fn skip_ws(&mut self) -> io::Result<Option<u8>> {
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Ok(None);
            }
            let n = buf.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')).count();
            if n < buf.len() {
                let b = buf[n];
                self.input.consume(n);
                return Ok(Some(b));
            }
            let len = buf.len();
            self.input.consume(len);
        }
    }

    /// Consumes one byte (one [`skip_ws`](Self::skip_ws) returned).
    pub(crate) fn bump(&mut self) {
        self.input.consume(1);
    }

    /// Appends the JSON value that starts at the next byte (after [`skip_ws`](Self::skip_ws))
    /// to `out`: a string, an object or array (to its matching close), or a scalar (up to the
    /// next `,`, `}`, `]` or whitespace). `Ok(false)` if the value would be longer than `max`
    /// bytes or the input ends inside it; `out` then holds part of it.
    pub(crate) fn value(&mut self, out: &mut Vec<u8>, max: usize) -> io::Result<bool> {
        self.scan_value(out, max, max)
    }

    /// Passes over the JSON value that starts at the next byte, as [`value`](Self::value) cuts
    /// it, appending at most its first `keep` bytes to `out`; `Ok(false)` if the input ends
    /// inside it. For skipping whole `features` arrays quickly.
    pub(crate) fn skip(&mut self, out: &mut Vec<u8>, keep: usize) -> io::Result<bool> {
        self.scan_value(out, keep, usize::MAX)
    }

    /// The value's bytes go to `out` up to `keep` of them; `Ok(false)` past `max` bytes or at
    /// the end of the input inside the value.
    fn scan_value(&mut self, out: &mut Vec<u8>, keep: usize, max: usize) -> io::Result<bool> {
        let start = out.len();
        let mut seen = 0usize;
        let Some(first) = self.skip_ws()? else { return Ok(false) };
        let (mut depth, mut in_string, mut escape) = (0usize, false, false);
        let scalar = !matches!(first, b'"' | b'{' | b'[');
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Ok(scalar && seen > 0);
            }
            let mut i = 0;
            let mut done = false;
            while i < buf.len() {
                if scalar {
                    match buf[i..].iter().position(|b| {
                        matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                    }) {
                        Some(k) => {
                            i += k;
                            done = true;
                        }
                        None => i = buf.len(),
                    }
                    break;
                }
                if in_string {
                    if escape {
                        escape = false;
                        i += 1;
                        continue;
                    }
                    match buf[i..].iter().position(|&b| b == b'"' || b == b'\\') {
                        Some(k) => {
                            i += k;
                            if buf[i] == b'\\' {
                                escape = true;
                            } else {
                                in_string = false;
                                if depth == 0 {
                                    i += 1;
                                    done = true;
                                    break;
                                }
                            }
                            i += 1;
                        }
                        None => i = buf.len(),
                    }
                    continue;
                }
                match buf[i..].iter().position(|&b| CLASS[usize::from(b)] != 0) {
                    Some(k) => {
                        i += k;
                        match CLASS[usize::from(buf[i])] {
                            1 => in_string = true,
                            2 => depth += 1,
                            _ => {
                                depth = depth.saturating_sub(1);
                                if depth == 0 {
                                    i += 1;
                                    done = true;
                                    break;
                                }
                            }
                        }
                        i += 1;
                    }
                    None => i = buf.len(),
                }
            }
            if seen.saturating_add(i) > max {
                return Ok(false);
            }
            seen += i;
            let room = keep.saturating_sub(out.len() - start).min(i);
            out.extend_from_slice(&buf[..room]);
            self.input.consume(i);
            if done {
                return Ok(true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str, block: usize) -> Vec<String> {
        let mut s = Scanner::new(io::BufReader::with_capacity(block, text.as_bytes()));
        let mut found = Vec::new();
        loop {
            let mut out = Vec::new();
            if !s.value(&mut out, 1 << 20).unwrap() {
                break;
            }
            found.push(String::from_utf8(out).unwrap());
            if s.skip_ws().unwrap() == Some(b',') {
                s.bump();
            }
        }
        found
    }

    #[test]
    fn values_are_cut_at_their_ends_in_any_block_size() {
        let text = r#" {"a":"}\"]","b":[1,{"c":[]}]} , "x\\" ,-1.5e3,true ,[[]],null"#;
        for block in [1, 2, 3, 7, 64] {
            assert_eq!(
                values(text, block),
                [r#"{"a":"}\"]","b":[1,{"c":[]}]}"#, r#""x\\""#, "-1.5e3", "true", "[[]]", "null"],
                "block {block}"
            );
        }
    }

    #[test]
    fn a_value_longer_than_the_cap_or_cut_off_is_refused() {
        let mut s = Scanner::new(io::BufReader::with_capacity(4, &b"[1,2,3,4,5]"[..]));
        assert!(!s.value(&mut Vec::new(), 8).unwrap());
        let mut s = Scanner::new(&b"{\"a\":[1,2"[..]);
        assert!(!s.value(&mut Vec::new(), 100).unwrap());
        let mut s = Scanner::new(&b"\"open"[..]);
        assert!(!s.value(&mut Vec::new(), 100).unwrap());
    }
}
