//! Text helpers shared by the text formats: the shortest round-trip number form, and GBK /
//! GB 18030 decoding and encoding (through `encoding_rs`).

use super::TextEncoding;
use std::borrow::Cow;
use std::fmt;

/// A finite `f64` in the shortest form that reads back exactly: plain decimal when
/// `1e-7 <= |v| < 1e21` or `v` is ±0 (`116.404`, `4418560.5`, `-0`), scientific notation
/// otherwise (`1.5e-8`, `1e300`). The form `geounify transform` writes.
#[derive(Debug, Clone, Copy)]
pub struct Number(pub f64);

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if v == 0.0 || (1e-7..1e21).contains(&v.abs()) {
            write!(f, "{v}") // Rust's `{}`: shortest round-trip digits, never an exponent
        } else {
            write!(f, "{v:e}") // shortest round-trip digits with an exponent
        }
    }
}

/// `text` as a coordinate: it contains an ASCII digit, parses as an `f64` (surrounding ASCII
/// whitespace ignored) and is finite. `nan`, `inf`, words and `1e999` are not coordinates.
pub fn parse_coordinate(text: &str) -> Option<f64> {
    let t = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if !t.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn codec(encoding: TextEncoding) -> &'static encoding_rs::Encoding {
    match encoding {
        TextEncoding::Utf8 => encoding_rs::UTF_8,
        TextEncoding::Gbk => encoding_rs::GBK,
        TextEncoding::Gb18030 => encoding_rs::GB18030,
    }
}

/// Decodes `bytes` (no byte-order mark handling); on a malformed sequence, the byte offset of
/// the first one.
pub fn decode(bytes: &[u8], encoding: TextEncoding) -> Result<Cow<'_, str>, usize> {
    if encoding == TextEncoding::Utf8 {
        return std::str::from_utf8(bytes).map(Cow::Borrowed).map_err(|e| e.valid_up_to());
    }
    match codec(encoding).decode_without_bom_handling_and_without_replacement(bytes) {
        Some(text) => Ok(text),
        None => {
            // Find the first malformed sequence by feeding the decoder byte by byte.
            let mut decoder = codec(encoding).new_decoder_without_bom_handling();
            let mut out = String::with_capacity(bytes.len() * 2);
            for (offset, chunk) in bytes.chunks(1).enumerate() {
                let (_, _, replaced) = decoder.decode_to_string(chunk, &mut out, false);
                if replaced {
                    // The malformed sequence ends at this byte; it starts at most 3 bytes
                    // earlier (GB 18030's longest sequence is 4 bytes).
                    return Err(offset);
                }
            }
            Err(bytes.len())
        }
    }
}

/// Encodes `text`; `Err(c)` names the first character the encoding cannot represent.
pub fn encode(text: &str, encoding: TextEncoding) -> Result<Cow<'_, [u8]>, char> {
    if encoding == TextEncoding::Utf8 {
        return Ok(Cow::Borrowed(text.as_bytes()));
    }
    let (bytes, _, unmappable) = codec(encoding).encode(text);
    if unmappable {
        let c =
            text.chars().find(|c| codec(encoding).encode(&c.to_string()).2).unwrap_or('\u{FFFD}');
        return Err(c);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(Number(116.404).to_string(), "116.404");
        assert_eq!(Number(-0.0).to_string(), "-0");
        assert_eq!(Number(1.5e-8).to_string(), "1.5e-8");
        assert_eq!(parse_coordinate(" 12.5 "), Some(12.5));
        assert_eq!(parse_coordinate("nan"), None);
        assert_eq!(parse_coordinate("1e999"), None);
    }

    #[test]
    fn gbk_round_trip_and_errors() {
        let gbk = [0xb3, 0xc7, 0xca, 0xd0]; // 城市
        assert_eq!(decode(&gbk, TextEncoding::Gbk).unwrap(), "城市");
        assert_eq!(encode("城市", TextEncoding::Gbk).unwrap().as_ref(), &gbk);
        assert_eq!(decode(b"ab\xff", TextEncoding::Gbk), Err(2));
        assert_eq!(decode(b"ab\xff", TextEncoding::Utf8), Err(2));
        assert_eq!(encode("a😀", TextEncoding::Gbk), Err('😀'));
        assert!(encode("a😀", TextEncoding::Gb18030).is_ok());
    }
}
