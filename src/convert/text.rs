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
        let mut buffer = zmij::Buffer::new();
        match fast_plain(&mut buffer, self.0) {
            Some(text) => f.write_str(text),
            None => self.fmt_std(f),
        }
    }
}

impl Number {
    /// Appends the number's text to `out`: the same bytes as its `Display`, without going
    /// through a formatter.
    #[inline]
    pub fn push_to(self, out: &mut Vec<u8>) {
        let mut buffer = zmij::Buffer::new();
        match fast_plain(&mut buffer, self.0) {
            Some(text) => out.extend_from_slice(text.as_bytes()),
            None => {
                use std::io::Write as _;
                // Writing to a `Vec` cannot fail.
                let _ = write!(out, "{}", StdForm(self.0));
            }
        }
    }

    /// The reference form, through std's formatting (Grisu with a Dragon4 fallback).
    fn fmt_std(self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if v == 0.0 || (1e-7..1e21).contains(&v.abs()) {
            write!(f, "{v}") // Rust's `{}`: shortest round-trip digits, never an exponent
        } else {
            write!(f, "{v:e}") // shortest round-trip digits with an exponent
        }
    }
}

/// [`Number`] formatted by std only (the reference the fast path is tested against).
struct StdForm(f64);

impl fmt::Display for StdForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Number(self.0).fmt_std(f)
    }
}

/// The common case, fast: `v` in plain decimal through `zmij` (Schubfach), when that gives the
/// same text as std, which is when all of these hold:
/// - `1e-5 <= |v| < 1e15`: in our plain range (`1e-7 <= |v| < 1e21`), and `zmij` writes it
///   without an exponent (it does for `1e-5 <= |v| < 1e16`); it writes integers with `.0`, which
///   is dropped;
/// - no tie is possible: both give the shortest digits that read back as `v` and, of those, the
///   closest to `v`, but when `v` is exactly halfway between two shortest candidates std rounds
///   half up and Schubfach half to even (`982098011074.53125` → std `…074.5313`, zmij
///   `…074.5312`). A tie needs `v`'s exact decimal expansion to have at most 18 significant
///   digits. `v = m·2^-f` with `m` odd has exactly `f` decimals, of which at most 6 are leading
///   zeros when `|v| >= 1e-7`: with `f >= 26` it has at least 20 significant digits, so no tie.
///   Coordinates of the usual sizes have 26 or more such bits (a northing near 3e6 has 30 or 31,
///   fewer only when the last bits of its significand are zeros).
///
/// `None`: use std's formatting. Zero is `0` or `-0`.
#[inline]
fn fast_plain(buffer: &mut zmij::Buffer, v: f64) -> Option<&str> {
    /// Fraction bits (after dropping trailing zero bits) that rule out a tie, as above.
    const TIE_FREE_FRACTION_BITS: i32 = 26;
    if v == 0.0 {
        return Some(if v.is_sign_negative() { "-0" } else { "0" });
    }
    // zmij writes plain decimal for decimal exponents -5 ..= 15 (1e-5 <= |v| < 1e16), inside
    // our plain range (the unit test checks the edges).
    if !(1e-5..1e15).contains(&v.abs()) {
        return None;
    }
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32; // `v` is normal: |v| >= 1e-7
    let significand = (bits & ((1 << 52) - 1)) | (1 << 52);
    // v = (significand >> tz) · 2^exponent with an odd first factor.
    let exponent = biased - 1075 + significand.trailing_zeros() as i32;
    if exponent > -TIE_FREE_FRACTION_BITS {
        return None;
    }
    let text = buffer.format_finite(v);
    Some(text.strip_suffix(".0").unwrap_or(text))
}

/// A finite `f64` with exactly `decimals` digits after the decimal point (none, and no point,
/// for 0), plain decimal whatever its size: `Fixed(448688.94449, 3)` is `448688.944`.
///
/// Rounding: the exact binary value of `v` is rounded to the nearest multiple of
/// 10^-`decimals` (std's `{:.N}`, exact for every `f64`); an exact tie, which only a value with
/// few binary fraction digits can be (`0.125` to 2 decimals), goes to the even last digit
/// (`0.12`). A decimal that the binary value only approximates is rounded by its true value:
/// `2.675` is stored as 2.67499999999999982236431605997495353221893310546875 and gives `2.67`.
/// A value that rounds to zero is written without a sign (`-0.0004` to 3 decimals is `0.000`),
/// so a sign is never the only trace of a rounding residue.
#[derive(Debug, Clone, Copy)]
pub struct Fixed(pub f64, pub usize);

impl Fixed {
    /// Appends the number's text to `out` (the same bytes as its `Display`).
    pub fn push_to(self, out: &mut Vec<u8>) {
        use std::io::Write as _;
        let start = out.len();
        // Writing to a `Vec` cannot fail.
        let _ = write!(out, "{:.*}", self.1, self.0);
        if out[start] == b'-' && out[start + 1..].iter().all(|&b| b == b'0' || b == b'.') {
            out.remove(start);
        }
    }
}

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = Vec::new();
        self.push_to(&mut text);
        // `{:.N}` of a finite f64 writes ASCII only.
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

/// Decimal places for degrees that match `metre_decimals` decimal places of metres: 6 more.
/// A step of 10^-(N+6) degrees is at most 0.112 · 10^-N m on the ground (1° of latitude or of
/// longitude at the equator is at most 111.32 km), the first power of ten not coarser than the
/// metre step 10^-N m (10^-(N+5)° would be up to 1.11 · 10^-N m). So `--precision 3` writes
/// metres to the millimetre and degrees to 9 decimals (≤ 0.11 mm).
pub fn degree_decimals(metre_decimals: usize) -> usize {
    metre_decimals + 6
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

/// The UTF-8 byte-order mark, which text formats pass over when reading (and write back when
/// converting into themselves).
pub(crate) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The most characters of a value quoted in a message.
const SHOWN_CHARS: usize = 40;

/// `text` for a message: at most 40 characters, `…` where it is cut.
pub(crate) fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(SHOWN_CHARS).collect();
    if text.chars().nth(SHOWN_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// `bytes` for a message: decoded as UTF-8 (invalid sequences replaced), at most 40
/// characters, `…` where it is cut.
pub(crate) fn shown(bytes: &[u8]) -> String {
    shorten(&String::from_utf8_lossy(bytes))
}

/// Appends the bytes of `input` up to and including the next `\n` to `buf`, at most `max` of
/// them; the count appended (0 at the end of the input). Like
/// `(&mut input).take(max).read_until(b'\n', buf)`, except for memory: `buf` grows to at most
/// `max` bytes beyond its length at the call (never `Vec`'s doubling past that: a 64 MiB + 1
/// record does not take 128 MiB), and a growth that cannot be allocated is an
/// [`io::ErrorKind::OutOfMemory`] error instead of an abort of the process.
pub(crate) fn read_line_bounded<R: std::io::BufRead + ?Sized>(
    input: &mut R,
    buf: &mut Vec<u8>,
    max: u64,
) -> std::io::Result<usize> {
    let start = buf.len();
    let ceiling = start.saturating_add(usize::try_from(max).unwrap_or(usize::MAX));
    while buf.len() < ceiling {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        let room = ceiling - buf.len();
        let window = &available[..available.len().min(room)];
        let (used, done) = match window.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (window.len(), false),
        };
        if buf.capacity() - buf.len() < used {
            let wanted = buf.capacity().saturating_mul(2).min(ceiling).max(buf.len() + used);
            buf.try_reserve_exact(wanted - buf.len()).map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::OutOfMemory,
                    format!(
                        "not enough memory to hold one record ({} MiB read so far)",
                        (buf.len() - start) >> 20
                    ),
                )
            })?;
        }
        buf.extend_from_slice(&window[..used]);
        input.consume(used);
        if done {
            break;
        }
    }
    Ok(buf.len() - start)
}

#[cfg(test)]
mod tests {
    #[test]
    fn read_line_bounded_reads_like_read_until_and_never_overallocates() {
        use std::io::BufRead as _;
        let text = b"ab\ncdef\n\ngh";
        for cap in [1, 2, 3, 100] {
            let mut a = std::io::BufReader::with_capacity(cap, &text[..]);
            let mut b = std::io::BufReader::with_capacity(cap, &text[..]);
            for max in [100u64, 3, 1, 100, 100, 100] {
                let (mut x, mut y) = (b"z".to_vec(), b"z".to_vec());
                let n = read_line_bounded(&mut a, &mut x, max).unwrap();
                let m = std::io::Read::take(&mut b, max).read_until(b'\n', &mut y).unwrap();
                assert_eq!((n, &x), (m, &y), "cap {cap} max {max}");
            }
        }
        // A 1 MiB + 1 line read with max 1 MiB: the buffer holds at most 1 MiB more.
        let long = vec![b'x'; (1 << 20) + 1];
        let mut input = std::io::BufReader::with_capacity(4096, &long[..]);
        let mut buf = vec![b'a'; 10];
        assert_eq!(read_line_bounded(&mut input, &mut buf, 1 << 20).unwrap(), 1 << 20);
        assert!(buf.capacity() <= 10 + (1 << 20), "{}", buf.capacity());
    }
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

    /// The fast path (`zmij`) writes exactly the digits of std's shortest round-trip form, over
    /// every binary exponent of the plain-decimal range and its edges, random mantissas, and
    /// the values next to powers of ten and of two (where shortest-digit algorithms differ if
    /// any do).
    #[test]
    fn fast_numbers_equal_std_form() {
        let std_form = |v: f64| StdForm(v).to_string();
        let check = |v: f64| {
            let mut pushed = Vec::new();
            Number(v).push_to(&mut pushed);
            let expected = std_form(v);
            assert_eq!(Number(v).to_string(), expected, "{:#x}", v.to_bits());
            assert_eq!(String::from_utf8(pushed).unwrap(), expected, "{:#x}", v.to_bits());
        };
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        // Binary exponents 2^-30 ..= 2^75 cover 1e-9 ..= 3.7e22 (both ends of the plain range).
        for exp in (1023 - 30)..=(1023 + 75u64) {
            for _ in 0..2000 {
                let bits = (exp << 52) | (next() & ((1 << 52) - 1));
                let v = f64::from_bits(bits);
                check(v);
                check(-v);
            }
            let power = f64::from_bits(exp << 52);
            for v in [power, power.next_down(), power.next_up()] {
                check(v);
            }
        }
        for k in -9..=22 {
            let p = 10f64.powi(k);
            for v in [p, p.next_down(), p.next_up(), 1.5 * p, 9.999_999_999_999_999 * p] {
                check(v);
                check(-v);
            }
        }
        // Coordinates as files hold them: decimals with up to 9 places, and integers.
        for _ in 0..200_000 {
            let v = (next() % 100_000_000_000_000) as f64 / 1e9;
            check(v);
            check(-((next() % 10_000_000_000) as f64));
        }
        // Exact ties between two shortest candidates (std rounds half up): with few fraction
        // bits, and around 2^26 fraction bits (the fast path's limit).
        let tie = f64::from_bits(0x426c_9533_4c78_5100); // 982098011074.53125
        assert_eq!(Number(tie).to_string(), "982098011074.5313");
        for _ in 0..200_000 {
            let m = (next() >> 11) | 1; // odd, < 2^53
            let small = (next() >> (40 + next() % 24)) | 1; // odd, of 1 to 24 bits
            for f in [5, 10, 16, 20, 24, 25, 26, 27, 30] {
                check(m as f64 / (1u64 << f) as f64);
                check(small as f64 / (1u64 << f) as f64);
            }
        }
        for v in [0.0, -0.0, 1.0, -1.0, 1e15, 1e16, 1e20, 9.9e20, 1e-7, 1e-5, 9.9e-8, 5e-324] {
            check(v);
        }
    }

    #[test]
    fn fixed_decimals() {
        let show = |v: f64, d: usize| Fixed(v, d).to_string();
        assert_eq!(show(448_688.944_49, 3), "448688.944");
        assert_eq!(show(448_688.944_5, 3), "448688.944"); // binary value 448688.94449999998...
        assert_eq!(show(448_688.944_51, 3), "448688.945");
        assert_eq!(show(2.675, 2), "2.67"); // binary value 2.67499999999999982...
        assert_eq!(show(0.125, 2), "0.12"); // exact tie: to even
        assert_eq!(show(0.375, 2), "0.38"); // exact tie: to even
        assert_eq!(show(116.404, 9), "116.404000000");
        assert_eq!(show(-0.0004, 3), "0.000");
        assert_eq!(show(-0.0, 0), "0");
        assert_eq!(show(-0.6, 0), "-1");
        assert_eq!(show(-12.3456, 2), "-12.35");
        assert_eq!(show(1e21, 1), "1000000000000000000000.0");
        assert_eq!(degree_decimals(3), 9);
        // 10^-(N+6)° on the ground at 111.32 km per degree is within the metre step 10^-N m.
        for n in 0..=12 {
            let step = 10f64.powi(-(degree_decimals(n) as i32)) * 111_320.0;
            assert!(step <= 10f64.powi(-(n as i32)) && step * 10.0 > 10f64.powi(-(n as i32)));
        }
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
