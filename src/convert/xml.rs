//! The byte-level XML scanner the XML formats (GPX, KML) share: a document is cut into items
//! (text, start / end / empty-element tags, comments, CDATA sections, processing instructions
//! and the XML declaration, `<!DOCTYPE …>`), each given as the exact bytes of the input, so a
//! converter copies every byte it does not rewrite.
//!
//! Why our own scanner rather than an XML crate: the formats are rewritten in place, and the
//! byte range of every attribute value and of every text run is what the converters need; an
//! XML reader's events (unescaped text, normalised attributes) would have to be mapped back to
//! bytes. The scanner is small and strict where it matters:
//! - a tag ends at the first `>` outside a quoted attribute value (either quote style), a
//!   comment at `-->`, a CDATA section at `]]>`, a processing instruction at `?>`, a
//!   declaration (`<!DOCTYPE …>` with an internal subset) at the `>` outside quotes and
//!   brackets;
//! - [`Nesting`] checks that end tags match their start tags, that there is one root element and
//!   that nothing but white space, comments and processing instructions stands outside it;
//! - every item is capped at [`MAX_RECORD_BYTES`](super::MAX_RECORD_BYTES) and the nesting at
//!   [`MAX_DEPTH`] elements, so memory stays bounded whatever the input;
//! - errors are [`ConvertError::Malformed`] naming the line where the item starts.
//!
//! Encodings: the markup bytes (`<`, `>`, `/`, `?`, `!`, `=`, quotes, white space) are all below
//! 0x40, and every byte of a multi-byte character in UTF-8, GBK or GB 18030 that is not itself
//! ASCII is at least 0x30 and never one of them, so files in any of these encodings are cut
//! correctly; names and text are copied as bytes. UTF-16 (a byte-order mark `FE FF` / `FF FE`)
//! is refused.
//!
//! Entities: `&lt;`, `&gt;`, `&amp;`, `&quot;`, `&apos;` and character references `&#N;`,
//! `&#xN;` are resolved in attribute values ([`unescape`]); other entities are refused there.
//!
//! **Chunks.** GPX and KML read whole point elements / features into chunks of about 4 MiB
//! ([`fill`]), find their numbers, batch them through
//! [`runner::in_place`](super::runner::in_place) (one `transform_slice` per part, parts in
//! parallel) and write each chunk with its edits ([`write_edits`]). They are not on
//! `runner::Run::records`: its failure location is always `line N` of the record's start plus a
//! label chosen before the failing point is known, and a record that cannot be read has no
//! label, while GPX names a bad point `line 3, trkpt 2` and KML a bad tuple by its own line and
//! number (`line 4, Placemark 2: point 2: ...`, in a KMZ prefixed by the entry's name), and KML
//! must fail coordinates outside any feature even with `skip_invalid`.

use super::{ConvertError, MAX_RECORD_BYTES};
use std::borrow::Cow;
use std::io::Read;
use std::ops::Range;
use std::path::Path;

/// The deepest element nesting accepted (GPX and KML need about ten levels).
pub(crate) const MAX_DEPTH: usize = 1024;

/// What an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Character data between markup (may be only white space).
    Text,
    /// `<name …>`.
    Start,
    /// `</name>`.
    End,
    /// `<name …/>`.
    Empty,
    /// `<!-- … -->`.
    Comment,
    /// `<![CDATA[ … ]]>`.
    CData,
    /// `<? … ?>`, the XML declaration included.
    Pi,
    /// `<!DOCTYPE …>` or another `<!…>` declaration.
    Decl,
}

/// One item: its kind, its bytes (`start..end` in the caller's buffer) and the line where it
/// starts (1-based).
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) line: u64,
}

impl Item {
    /// The item's byte range in the buffer.
    pub(crate) fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// Cuts a byte stream into [`Item`]s, appending each item's bytes to the caller's buffer.
pub(crate) struct Scanner<'p, R> {
    input: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    line: u64,
    started: bool,
    path: &'p Path,
}

/// The read buffer's size.
const READ_BUFFER: usize = 1 << 20;

impl<'p, R: Read> Scanner<'p, R> {
    /// A scanner reading `input`; errors name `path`.
    pub(crate) fn new(input: R, path: &'p Path) -> Self {
        Self { input, buf: vec![0; READ_BUFFER], pos: 0, len: 0, line: 1, started: false, path }
    }

    fn refill(&mut self) -> Result<(), ConvertError> {
        loop {
            match self.input.read(&mut self.buf) {
                Ok(n) => {
                    self.pos = 0;
                    self.len = n;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(ConvertError::Io { path: self.path.to_path_buf(), source })
                }
            }
        }
    }

    #[inline]
    fn peek(&mut self) -> Result<Option<u8>, ConvertError> {
        if self.pos >= self.len {
            self.refill()?;
        }
        Ok(self.buf.get(self.pos).copied().filter(|_| self.pos < self.len))
    }

    /// The next byte, appended to `out`; `None` at the end of the input.
    #[inline]
    fn take(&mut self, out: &mut Vec<u8>) -> Result<Option<u8>, ConvertError> {
        let b = self.peek()?;
        if let Some(b) = b {
            self.pos += 1;
            self.line += u64::from(b == b'\n');
            out.push(b);
        }
        Ok(b)
    }

    fn malformed(&self, line: u64, message: impl Into<String>) -> ConvertError {
        malformed(self.path, line, message)
    }

    /// Appends the next item's bytes to `out`; `None` at the end of the input. The first call
    /// refuses a UTF-16 byte-order mark.
    pub(crate) fn next_item(&mut self, out: &mut Vec<u8>) -> Result<Option<Item>, ConvertError> {
        let start = out.len();
        let line = self.line;
        let Some(first) = self.peek()? else { return Ok(None) };
        if !self.started {
            self.started = true;
            let head = self.buf.get(self.pos..self.len).unwrap_or_default();
            if head.starts_with(b"\xFE\xFF") || head.starts_with(b"\xFF\xFE") {
                return Err(self.malformed(
                    1,
                    "the file is UTF-16; only UTF-8 (and ASCII-compatible encodings such as GBK) \
                     is read: convert it to UTF-8 first",
                ));
            }
        }
        if first != b'<' {
            loop {
                if self.pos >= self.len {
                    self.refill()?;
                    if self.len == 0 {
                        break;
                    }
                }
                let avail = self.buf.get(self.pos..self.len).unwrap_or_default();
                let n = avail.iter().position(|&b| b == b'<').unwrap_or(avail.len());
                let taken = avail.get(..n).unwrap_or_default();
                out.extend_from_slice(taken);
                self.line += taken.iter().filter(|&&b| b == b'\n').count() as u64;
                self.pos += n;
                self.check_cap(out, start, line, "text")?;
                if self.pos < self.len {
                    break;
                }
            }
            return Ok(Some(Item { kind: Kind::Text, start, end: out.len(), line }));
        }
        self.take(out)?;
        let what = |k: Kind| match k {
            Kind::Comment => "a comment",
            Kind::CData => "a CDATA section",
            Kind::Pi => "a processing instruction",
            Kind::Decl => "a declaration",
            _ => "a tag",
        };
        let eof = |s: &Self, k: Kind| {
            s.malformed(line, format!("the file ends inside {} opened here", what(k)))
        };
        let Some(second) = self.take(out)? else { return Err(eof(self, Kind::Start)) };
        let kind = match second {
            b'/' => Kind::End,
            b'?' => Kind::Pi,
            b'!' => match self.peek()? {
                Some(b'-') => Kind::Comment,
                Some(b'[') => Kind::CData,
                _ => Kind::Decl,
            },
            _ => Kind::Start,
        };
        match kind {
            Kind::Comment | Kind::CData => {
                let (opener, closer): (&[u8], &[u8]) =
                    if kind == Kind::Comment { (b"<!--", b"-->") } else { (b"<![CDATA[", b"]]>") };
                while out.len() - start < opener.len() {
                    if self.take(out)?.is_none() {
                        return Err(eof(self, kind));
                    }
                }
                if out.get(start..) != Some(opener) {
                    return Err(
                        self.malformed(line, format!("{} that is not well formed", what(kind)))
                    );
                }
                // The closer's last byte after its two others (`--`, `]]`), counted from
                // after the opener (so `<!-->` is no comment).
                let pair =
                    [closer.first().copied().unwrap_or(0), closer.get(1).copied().unwrap_or(0)];
                let mut tail = [0u8; 2];
                let found = self.scan_until(out, start, line, what(kind), |b| {
                    let hit = b == b'>' && tail == pair;
                    tail = [tail[1], b];
                    hit
                })?;
                if !found {
                    return Err(eof(self, kind));
                }
            }
            Kind::Pi => {
                let mut prev = 0u8;
                let found = self.scan_until(out, start, line, what(kind), |b| {
                    let hit = b == b'>' && prev == b'?';
                    prev = b;
                    hit
                })?;
                if !found {
                    return Err(eof(self, kind));
                }
            }
            _ => {
                // A tag or a declaration: ends at `>` outside quotes (and, in a declaration,
                // outside the internal subset's brackets). A `<` outside quotes in a tag stops
                // the scan as an error.
                let mut quote = None;
                let mut brackets = 0usize;
                let mut stray = false;
                let decl = kind == Kind::Decl;
                let found = self.scan_until(out, start, line, what(kind), |b| {
                    match (quote, b) {
                        (Some(q), _) if b == q => quote = None,
                        (Some(_), _) => {}
                        (None, b'"' | b'\'') => quote = Some(b),
                        (None, b'[') if decl => brackets += 1,
                        (None, b']') if decl => brackets = brackets.saturating_sub(1),
                        (None, b'<') if !decl => {
                            stray = true;
                            return true;
                        }
                        (None, b'>') if brackets == 0 => return true,
                        _ => {}
                    }
                    false
                })?;
                if stray {
                    return Err(self.malformed(
                        line,
                        "'<' inside a tag (a tag not closed with '>' before this one)",
                    ));
                }
                if !found {
                    return Err(eof(self, kind));
                }
            }
        }
        let end = out.len();
        let kind = if kind == Kind::Start && end - start >= 3 && out.get(end - 2) == Some(&b'/') {
            Kind::Empty
        } else {
            kind
        };
        Ok(Some(Item { kind, start, end, line }))
    }

    /// Moves input bytes to `out` up to and including the first one for which `stop` is true;
    /// `false` if the input ends first. The item (from `start`, at `line`) is capped.
    fn scan_until(
        &mut self,
        out: &mut Vec<u8>,
        start: usize,
        line: u64,
        what: &str,
        mut stop: impl FnMut(u8) -> bool,
    ) -> Result<bool, ConvertError> {
        loop {
            if self.pos >= self.len {
                self.refill()?;
                if self.len == 0 {
                    return Ok(false);
                }
            }
            let avail = self.buf.get(self.pos..self.len).unwrap_or_default();
            let found = avail.iter().position(|&b| stop(b));
            let n = found.map_or(avail.len(), |i| i + 1);
            let taken = avail.get(..n).unwrap_or_default();
            out.extend_from_slice(taken);
            self.line += taken.iter().filter(|&&b| b == b'\n').count() as u64;
            self.pos += n;
            self.check_cap(out, start, line, what)?;
            if found.is_some() {
                return Ok(true);
            }
        }
    }

    fn check_cap(
        &self,
        out: &[u8],
        start: usize,
        line: u64,
        what: &str,
    ) -> Result<(), ConvertError> {
        if (out.len() - start) as u64 > MAX_RECORD_BYTES {
            return Err(
                self.malformed(line, format!("{what} longer than {} MiB", MAX_RECORD_BYTES >> 20))
            );
        }
        Ok(())
    }
}

/// A [`ConvertError::Malformed`] at `line`.
pub(crate) fn malformed(path: &Path, line: u64, message: impl Into<String>) -> ConvertError {
    ConvertError::Malformed {
        path: path.to_path_buf(),
        location: format!("line {line}"),
        message: message.into(),
    }
}

/// Whether `b` is XML white space.
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// `range` of `buf` without the XML white space around it.
pub(crate) fn trimmed(buf: &[u8], mut range: Range<usize>) -> Range<usize> {
    let space = |i: usize| buf.get(i).copied().is_some_and(is_space);
    while range.start < range.end && space(range.start) {
        range.start += 1;
    }
    while range.end > range.start && space(range.end - 1) {
        range.end -= 1;
    }
    range
}

/// The element name of a start, empty-element or end tag (`tag` is the whole tag, `<` to `>`).
pub(crate) fn name(tag: &[u8]) -> &[u8] {
    let from = if tag.get(1) == Some(&b'/') { 2 } else { 1 };
    let rest = tag.get(from..).unwrap_or_default();
    let n = rest.iter().position(|&b| is_space(b) || b == b'/' || b == b'>').unwrap_or(rest.len());
    rest.get(..n).unwrap_or_default()
}

/// A name without its namespace prefix (`gx:coord` → `coord`).
pub(crate) fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => name.get(i + 1..).unwrap_or_default(),
        None => name,
    }
}

/// One attribute of a tag: the byte ranges (in the tag) of its name and of its value (inside
/// the quotes).
#[derive(Debug, Clone)]
pub(crate) struct Attribute {
    pub(crate) name: Range<usize>,
    pub(crate) value: Range<usize>,
}

/// The attributes of a start or empty-element tag `tag` (`<` to `>`), into `out` (cleared
/// first). Errors: the reason, for a tag that is not well formed.
pub(crate) fn attributes(tag: &[u8], out: &mut Vec<Attribute>) -> Result<(), String> {
    out.clear();
    let mut i = 1 + name(tag).len();
    let at = |i: usize| tag.get(i).copied();
    loop {
        let before = i;
        while at(i).is_some_and(is_space) {
            i += 1;
        }
        match at(i) {
            None => return Err("a tag that does not end with '>'".into()),
            Some(b'>') => return Ok(()),
            Some(b'/') if at(i + 1) == Some(b'>') => return Ok(()),
            _ => {}
        }
        if i == before {
            return Err("attributes must be separated by white space".into());
        }
        let name_start = i;
        while at(i).is_some_and(|b| !is_space(b) && !matches!(b, b'=' | b'>' | b'/' | b'"' | b'\''))
        {
            i += 1;
        }
        let name = name_start..i;
        if name.is_empty() {
            return Err("an attribute without a name".into());
        }
        while at(i).is_some_and(is_space) {
            i += 1;
        }
        if at(i) != Some(b'=') {
            let shown = String::from_utf8_lossy(tag.get(name.clone()).unwrap_or_default());
            return Err(format!("attribute '{shown}' has no value"));
        }
        i += 1;
        while at(i).is_some_and(is_space) {
            i += 1;
        }
        let Some(q @ (b'"' | b'\'')) = at(i) else {
            let shown = String::from_utf8_lossy(tag.get(name).unwrap_or_default());
            return Err(format!("the value of attribute '{shown}' is not quoted"));
        };
        let value_start = i + 1;
        let Some(len) = tag.get(value_start..).and_then(|r| r.iter().position(|&b| b == q)) else {
            return Err("an attribute value that is never closed".into());
        };
        out.push(Attribute { name, value: value_start..value_start + len });
        i = value_start + len + 1;
    }
}

/// `raw` with the predefined entities and character references resolved. Errors: the reason
/// (an unknown entity, a bad character reference, a `&` without `;`).
pub(crate) fn unescape(raw: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    if !raw.contains(&b'&') {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.iter().position(|&b| b == b'&') {
        out.extend_from_slice(rest.get(..amp).unwrap_or_default());
        let after = rest.get(amp + 1..).unwrap_or_default();
        let Some(semi) = after.iter().take(12).position(|&b| b == b';') else {
            return Err("a '&' that starts no entity".into());
        };
        let entity = after.get(..semi).unwrap_or_default();
        let ch = match entity {
            b"lt" => Some('<'),
            b"gt" => Some('>'),
            b"amp" => Some('&'),
            b"quot" => Some('"'),
            b"apos" => Some('\''),
            [b'#', b'x' | b'X', hex @ ..] => std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32),
            [b'#', dec @ ..] => std::str::from_utf8(dec)
                .ok()
                .and_then(|d| d.parse::<u32>().ok())
                .and_then(char::from_u32),
            _ => None,
        };
        let Some(ch) = ch else {
            return Err(format!("unknown entity '&{};'", String::from_utf8_lossy(entity)));
        };
        let mut utf8 = [0; 4];
        out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
        rest = after.get(semi + 1..).unwrap_or_default();
    }
    out.extend_from_slice(rest);
    Ok(Cow::Owned(out))
}

/// The value of attribute `wanted` (by local name, namespace prefix ignored) among `attrs` of
/// `tag`: its range in the tag.
pub(crate) fn find<'a>(tag: &[u8], attrs: &'a [Attribute], wanted: &[u8]) -> Option<&'a Attribute> {
    attrs.iter().find(|a| tag.get(a.name.clone()).is_some_and(|n| n == wanted))
}

/// The well-formedness of the element structure: end tags match start tags, one root element,
/// nothing but white space, comments and processing instructions outside it, at most
/// [`MAX_DEPTH`] levels.
#[derive(Debug, Default)]
pub(crate) struct Nesting {
    /// The open elements: where each name starts in `names`, and the line of its start tag.
    open: Vec<(usize, u64)>,
    /// The open elements' names, one after the other (one buffer: no allocation per tag).
    names: Vec<u8>,
    root: Option<Vec<u8>>,
    closed: bool,
    /// The line of the last text outside the root (for [`Nesting::error_line`]).
    text_line: u64,
}

impl Nesting {
    /// The number of open elements.
    pub(crate) fn depth(&self) -> usize {
        self.open.len()
    }

    /// The innermost open element's name.
    pub(crate) fn parent(&self) -> Option<&[u8]> {
        self.open.last().and_then(|&(start, _)| self.names.get(start..))
    }

    /// The root element's name, once met.
    pub(crate) fn root(&self) -> Option<&[u8]> {
        self.root.as_deref()
    }

    /// The line an error of [`Nesting::step`] on `item` concerns: the item's, or for text
    /// outside the root the line where that text starts.
    pub(crate) fn error_line(&self, item: &Item) -> u64 {
        if item.kind == Kind::Text {
            self.text_line.max(item.line)
        } else {
            item.line
        }
    }

    /// Checks item `item` (its bytes `bytes`) and updates the open elements. Errors: the reason
    /// (at [`Nesting::error_line`]).
    pub(crate) fn step(&mut self, item: &Item, bytes: &[u8]) -> Result<(), String> {
        match item.kind {
            Kind::Start | Kind::Empty => {
                let name = name(bytes);
                if name.is_empty() {
                    return Err("a tag without a name".into());
                }
                if self.open.is_empty() {
                    if self.closed || self.root.is_some() {
                        return Err(format!(
                            "a second root element <{}> (an XML file has one)",
                            String::from_utf8_lossy(name)
                        ));
                    }
                    self.root = Some(name.to_vec());
                    if item.kind == Kind::Empty {
                        self.closed = true;
                    }
                }
                if item.kind == Kind::Start {
                    if self.open.len() >= MAX_DEPTH {
                        return Err(format!("elements nested deeper than {MAX_DEPTH} levels"));
                    }
                    self.open.push((self.names.len(), item.line));
                    self.names.extend_from_slice(name);
                }
            }
            Kind::End => {
                let name = name(bytes);
                match self.open.pop() {
                    Some((start, _)) if self.names.get(start..) == Some(name) => {
                        self.names.truncate(start);
                        if self.open.is_empty() {
                            self.closed = true;
                        }
                    }
                    Some((start, line)) => {
                        return Err(format!(
                            "</{}> closes <{}> opened at line {line}",
                            String::from_utf8_lossy(name),
                            String::from_utf8_lossy(self.names.get(start..).unwrap_or_default())
                        ))
                    }
                    None => {
                        return Err(format!(
                            "</{}> closes no element",
                            String::from_utf8_lossy(name)
                        ))
                    }
                }
            }
            Kind::Text if self.open.is_empty() => {
                // A UTF-8 byte-order mark may open the file.
                let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
                    Some(rest) if self.root.is_none() => rest,
                    _ => bytes,
                };
                if !bytes.iter().all(|&b| is_space(b)) {
                    let first = bytes.iter().position(|&b| !is_space(b)).unwrap_or(0);
                    let before = bytes.get(..first).unwrap_or_default();
                    self.text_line =
                        item.line + before.iter().filter(|&&b| b == b'\n').count() as u64;
                    let shown: String =
                        String::from_utf8_lossy(bytes.get(first..).unwrap_or_default())
                            .chars()
                            .take(20)
                            .collect();
                    return Err(format!("text outside the root element: '{shown}'"));
                }
            }
            Kind::CData if self.open.is_empty() => {
                return Err("a CDATA section outside the root element".into())
            }
            Kind::Decl if self.root.is_some() => {
                return Err("a declaration (<!…>) after the root element started".into())
            }
            _ => {}
        }
        Ok(())
    }

    /// At the end of the input: every element closed and a root met. Errors: the reason and
    /// the line it concerns.
    pub(crate) fn finish(&self, last_line: u64) -> Result<(), (u64, String)> {
        if let Some(&(start, line)) = self.open.last() {
            return Err((
                line,
                format!(
                    "the file ends before <{}> opened here is closed",
                    String::from_utf8_lossy(self.names.get(start..).unwrap_or_default())
                ),
            ));
        }
        if self.root.is_none() {
            return Err((last_line, "the file is empty (no root element)".into()));
        }
        Ok(())
    }
}

/// An XML document read item by item with its structure checked ([`Nesting`]) and its root
/// element required: what the readers of conversions between formats walk.
pub(crate) struct Walk<'p, R> {
    scanner: Scanner<'p, R>,
    nesting: Nesting,
    path: &'p Path,
    /// The root element's local name and the format's name, for the error.
    root: (&'static str, &'static str),
    buf: Vec<u8>,
}

/// One item of a [`Walk`] and its level: the nesting depth of the element a tag opens or
/// closes (counting itself), or of the element content stands in.
pub(crate) struct Step {
    pub(crate) item: Item,
    pub(crate) level: usize,
}

impl<'p, R: Read> Walk<'p, R> {
    /// A walk of `input` (named `path` in errors) whose root must be `root` (local name) in
    /// format `format`.
    pub(crate) fn new(input: R, path: &'p Path, root: &'static str, format: &'static str) -> Self {
        Self {
            scanner: Scanner::new(input, path),
            nesting: Nesting::default(),
            path,
            root: (root, format),
            buf: Vec::new(),
        }
    }

    /// The next item; `None` at the end of the input, the structure checked complete.
    pub(crate) fn next(&mut self) -> Result<Option<Step>, ConvertError> {
        self.buf.clear();
        let Some(item) = self.scanner.next_item(&mut self.buf)? else {
            self.nesting
                .finish(self.scanner.line())
                .map_err(|(line, m)| malformed(self.path, line, m))?;
            return Ok(None);
        };
        let bytes = self.buf.get(item.range()).unwrap_or_default();
        let is_root =
            matches!(item.kind, Kind::Start | Kind::Empty) && self.nesting.root().is_none();
        let before = self.nesting.depth();
        self.nesting
            .step(&item, bytes)
            .map_err(|m| malformed(self.path, self.nesting.error_line(&item), m))?;
        let (root, format) = self.root;
        if is_root && local(name(bytes)) != root.as_bytes() {
            return Err(malformed(
                self.path,
                item.line,
                format!(
                    "not a {format} file: the root element is <{}>, not <{root}>",
                    String::from_utf8_lossy(name(bytes))
                ),
            ));
        }
        let depth = self.nesting.depth();
        let level = match item.kind {
            Kind::Start => depth,
            Kind::Empty => depth + 1,
            _ => before,
        };
        Ok(Some(Step { item, level }))
    }

    /// The bytes of `step`'s item.
    pub(crate) fn bytes(&self, step: &Step) -> &[u8] {
        self.buf.get(step.item.range()).unwrap_or_default()
    }

    /// The input's name in errors.
    pub(crate) fn path(&self) -> &'p Path {
        self.path
    }

    /// Adds `step`'s bytes to `size`, the bytes of a feature opened at `line`: past
    /// [`MAX_RECORD_BYTES`] a [`ConvertError::Malformed`] saying `what` is too long.
    pub(crate) fn count(
        &self,
        size: &mut u64,
        step: &Step,
        line: u64,
        what: &str,
    ) -> Result<(), ConvertError> {
        *size += step.item.range().len() as u64;
        if *size > MAX_RECORD_BYTES {
            let m = format!("{what} longer than {} MiB", MAX_RECORD_BYTES >> 20);
            return Err(malformed(self.path, line, m));
        }
        Ok(())
    }
}

/// The line the scanner is at (for errors at the end of the input).
impl<R> Scanner<'_, R> {
    pub(crate) fn line(&self) -> u64 {
        self.line
    }
}

/// Appends `v` as a plain decimal (never an exponent: XML Schema's `xsd:decimal`, which GPX's
/// coordinates are, has none) in the shortest form that reads back exactly.
pub(crate) fn push_decimal(v: f64, out: &mut Vec<u8>) {
    if v != 0.0 && v.abs() < 1e-5 {
        use std::io::Write as _;
        // Rust's `{}` for f64: shortest round-trip digits, never an exponent. Writing to a
        // `Vec` cannot fail.
        let _ = write!(out, "{v}");
    } else {
        super::text::Number(v).push_to(out);
    }
}

/// What becomes of a byte range of a chunk when it is written ([`write_edits`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Edit {
    /// Replaced by this number ([`push_decimal`]).
    Value(f64),
    /// Left out (a feature with `skip_invalid`).
    Drop,
    /// Writing stops here (the conversion has failed, or what follows is not known yet).
    Stop,
}

/// Appends `bytes` with `edits` applied to `out`: the edits are sorted by where they start, the
/// bytes between them copied; an edit starting inside a range already dropped is passed over.
/// Whether the writing goes on (no [`Edit::Stop`] met).
pub(crate) fn write_edits(
    bytes: &[u8],
    edits: &mut [(Range<usize>, Edit)],
    out: &mut Vec<u8>,
) -> bool {
    edits.sort_by_key(|(r, _)| r.start);
    let mut at = 0;
    for (range, edit) in edits.iter() {
        if range.start < at {
            continue; // inside a feature left out
        }
        out.extend_from_slice(bytes.get(at..range.start).unwrap_or_default());
        match edit {
            Edit::Value(v) => push_decimal(*v, out),
            Edit::Drop => {}
            Edit::Stop => return false,
        }
        at = range.end;
    }
    out.extend_from_slice(bytes.get(at..).unwrap_or_default());
    true
}

/// A chunk of an XML file being read item by item (GPX points, KML features): what
/// [`fill`] needs of a format's parser and the chunk it fills.
pub(crate) trait Filling {
    /// The chunk's bytes (items are appended).
    fn bytes(&mut self) -> &mut Vec<u8>;
    /// Reads the item just appended.
    fn feed(&mut self, item: &Item) -> Result<(), ConvertError>;
    /// Where the open record (one a chunk must not end inside) starts, if one is open.
    fn open_since(&self) -> Option<usize>;
    /// Whether the chunk holds as many points as it may.
    fn points_full(&self) -> bool;
    /// The nesting checked so far (for the end of the input).
    fn nesting(&self) -> &Nesting;
    /// The error for an open record over [`MAX_RECORD_BYTES`], the current item being `item`.
    fn too_long(&self, item: &Item) -> ConvertError;
    /// The input's name in errors.
    fn path(&self) -> &Path;
}

/// Reads items from `scanner` into `f` until the chunk holds `chunk_bytes` bytes or is full of
/// points, outside an open record; whether the input may hold more. At the end of the input
/// the nesting is checked to be complete.
pub(crate) fn fill<R: Read>(
    scanner: &mut Scanner<'_, R>,
    f: &mut impl Filling,
    chunk_bytes: usize,
) -> Result<bool, ConvertError> {
    loop {
        let Some(item) = scanner.next_item(f.bytes())? else {
            f.nesting().finish(scanner.line()).map_err(|(line, m)| malformed(f.path(), line, m))?;
            return Ok(false);
        };
        f.feed(&item)?;
        let len = f.bytes().len();
        match f.open_since() {
            Some(start) if (len - start) as u64 > MAX_RECORD_BYTES => return Err(f.too_long(&item)),
            Some(_) => {}
            None if len >= chunk_bytes || f.points_full() => return Ok(true),
            None => {}
        }
    }
}

/// The checks before reading an XML format (`format` names it, `"GPX"`): no `--encoding` (the
/// XML declaration names the encoding and the bytes are copied as they are) and the CRS rule
/// ([`lonlat_rule`]). The warnings.
pub(crate) fn check(job: &super::Job<'_>, format: &str) -> Result<Vec<String>, ConvertError> {
    check_encoding(job, format)?;
    lonlat_rule(job, format)
}

/// The checks of reading (the sanity check's sample, a conversion into another format): no
/// `--encoding` and a longitude/latitude source; the target is the writer's business.
pub(crate) fn check_input(job: &super::Job<'_>, format: &str) -> Result<(), ConvertError> {
    check_encoding(job, format)?;
    lonlat_source(job, format)
}

/// The encoding half of [`check`]: no `--encoding` GBK / GB 18030.
pub(crate) fn check_encoding(job: &super::Job<'_>, format: &str) -> Result<(), ConvertError> {
    use super::TextEncoding;
    if matches!(job.options.encoding, Some(TextEncoding::Gbk | TextEncoding::Gb18030)) {
        return Err(ConvertError::Options {
            path: job.input.to_path_buf(),
            message: format!(
                "a {format} file names its encoding in its XML declaration; --encoding does not \
                 apply (the bytes are copied as they are)"
            ),
        });
    }
    Ok(())
}

/// Appends `text` as XML character data (or an attribute value in double quotes): `&`, `<`,
/// `>` and `"` escaped, and the characters XML 1.0 cannot hold (controls other than tab, line
/// feed and carriage return) left out.
pub(crate) fn push_escaped(text: &str, out: &mut Vec<u8>) {
    for c in text.chars() {
        match c {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '"' => out.extend_from_slice(b"&quot;"),
            '\t' | '\n' | '\r' => out.push(c as u8),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => {
                let mut utf8 = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }
}

/// The text of an element's content items (`Text` unescaped, `CData` as it is), appended to
/// `out`; `item` is one such item with its bytes `bytes`. Errors: a bad entity.
pub(crate) fn push_content(item: &Item, bytes: &[u8], out: &mut String) -> Result<(), String> {
    let raw = match item.kind {
        Kind::Text => unescape(bytes)?,
        Kind::CData => {
            Cow::Borrowed(bytes.get(9..bytes.len().saturating_sub(3)).unwrap_or_default())
        }
        _ => return Ok(()),
    };
    out.push_str(&String::from_utf8_lossy(&raw));
    Ok(())
}

/// Appends a coordinate written by a conversion into an XML format: with `decimals` fixed
/// decimals ([`ConvertOptions::precision`](super::ConvertOptions::precision)), else
/// [`push_decimal`].
pub(crate) fn push_coordinate(v: f64, decimals: Option<usize>, out: &mut Vec<u8>) {
    match decimals {
        Some(d) => super::text::Fixed(v, d).push_to(out),
        None => push_decimal(v, out),
    }
}

/// The CRS rule of the XML formats (GPX, KML), whose coordinates are longitude/latitude in
/// degrees by definition: a projected (or local-grid, or Baidu Mercator) source or target is
/// [`ConvertError::Options`]; a target that is not a WGS84-frame geographic CRS (GCJ-02, BD-09,
/// a geographic CRS on another datum) is allowed with a warning that other software will read
/// the coordinates as WGS84. `format` names the format in messages (`"GPX"`). The warnings.
pub(crate) fn lonlat_rule(job: &super::Job<'_>, format: &str) -> Result<Vec<String>, ConvertError> {
    lonlat_source(job, format)?;
    lonlat_target(job, format)
}

/// The source half of [`lonlat_rule`]: a source that is not longitude/latitude in degrees is
/// [`ConvertError::Options`] (an input in `format` holds nothing else).
pub(crate) fn lonlat_source(job: &super::Job<'_>, format: &str) -> Result<(), ConvertError> {
    angular(job.source, job.input, "source", format)
}

/// The target half of [`lonlat_rule`]: a projected target is [`ConvertError::Options`]; one
/// outside the WGS84 frame (GCJ-02, BD-09, another datum) is allowed with a warning. The
/// warnings.
pub(crate) fn lonlat_target(
    job: &super::Job<'_>,
    format: &str,
) -> Result<Vec<String>, ConvertError> {
    use crate::crs::CrsKind;
    use crate::datum::DatumShift;
    angular(job.target, job.output, "target", format)?;
    let target = job.target;
    let wgs84_frame = matches!(target.kind(), CrsKind::Geographic)
        && matches!(target.datum().to_cgcs2000(), DatumShift::SameFrame);
    if wgs84_frame {
        return Ok(Vec::new());
    }
    Ok(vec![format!(
        "{format} coordinates are WGS84 by definition; the output holds {} coordinates, which \
         other software will take for WGS84 (keep the file apart, e.g. name it after its CRS)",
        target.id()
    )])
}

fn angular(crs: &crate::Crs, path: &Path, role: &str, format: &str) -> Result<(), ConvertError> {
    if crs.is_angular() {
        return Ok(());
    }
    Err(ConvertError::Options {
        path: path.to_path_buf(),
        message: format!(
            "{format} coordinates are longitude/latitude in degrees; the {role} CRS {} is not \
             (projected coordinates in metres cannot be written in {format}): choose a \
             geographic {role} such as EPSG:4326, GCJ02 or BD09",
            crs.id()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> Result<Vec<(Kind, String, u64)>, String> {
        let mut s = Scanner::new(text.as_bytes(), Path::new("t"));
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(item) = s.next_item(&mut buf).map_err(|e| e.to_string())? {
            out.push((
                item.kind,
                String::from_utf8_lossy(&buf[item.range()]).into_owned(),
                item.line,
            ));
        }
        Ok(out)
    }

    #[test]
    fn items_keep_every_byte() {
        let doc = "<?xml version='1.0'?>\n<!DOCTYPE g [<!ENTITY a \"x>\">]>\n<g a='1>2' b=\"'\">\
                   <!-- <x> -- -->t&amp;<![CDATA[<y>]]]><e/></g>\n";
        let got = items(doc).unwrap();
        let joined: String = got.iter().map(|(_, s, _)| s.as_str()).collect();
        assert_eq!(joined, doc);
        let kinds: Vec<Kind> = got.iter().map(|i| i.0).collect();
        use Kind::*;
        assert_eq!(kinds, [Pi, Text, Decl, Text, Start, Comment, Text, CData, Empty, End, Text]);
        assert_eq!(got[4].2, 3);
    }

    #[test]
    fn broken_markup_is_refused_with_its_line() {
        let err = items("<a>\n<!-- open").unwrap_err();
        assert!(err.contains("line 2") && err.contains("inside a comment"), "{err}");
        let err = items("<a b='1'\n<c>").unwrap_err();
        assert!(err.contains("line 1") && err.contains("'<' inside a tag"), "{err}");
        assert!(items("\u{FEFF}<a/>").is_ok());
        let mut s = Scanner::new(&b"\xFF\xFE<\0a\0/\0>\0"[..], Path::new("t"));
        let err = s.next_item(&mut Vec::new()).unwrap_err().to_string();
        assert!(err.contains("UTF-16"), "{err}");
    }

    #[test]
    fn attributes_in_either_quote_style_with_entities() {
        let tag = b"<trkpt lat = '39.9' lon=\"116&#46;4\" x:y='a\"b'/>";
        let mut attrs = Vec::new();
        attributes(tag, &mut attrs).unwrap();
        assert_eq!(attrs.len(), 3);
        let lon = find(tag, &attrs, b"lon").unwrap();
        assert_eq!(unescape(&tag[lon.value.clone()]).unwrap().as_ref(), b"116.4");
        assert_eq!(&tag[attrs[2].value.clone()], b"a\"b");
        assert!(attributes(b"<a b=1>", &mut attrs).unwrap_err().contains("not quoted"));
        assert!(attributes(b"<a b='1'c='2'>", &mut attrs).is_err());
        assert!(unescape(b"&bogus;").is_err());
    }

    #[test]
    fn nesting_is_checked() {
        let check = |doc: &str| -> Result<(), String> {
            let mut s = Scanner::new(doc.as_bytes(), Path::new("t"));
            let mut buf = Vec::new();
            let mut n = Nesting::default();
            while let Some(item) = s.next_item(&mut buf).map_err(|e| e.to_string())? {
                n.step(&item, &buf[item.range()])?;
            }
            n.finish(s.line()).map_err(|(l, m)| format!("line {l}: {m}"))
        };
        assert!(check("<a><b/></a>").is_ok());
        assert!(check("<a><b></a>").unwrap_err().contains("</a> closes <b>"));
        assert!(check("<a></a><b/>").unwrap_err().contains("second root"));
        assert!(check("x<a/>").unwrap_err().contains("text outside"));
        assert!(check("  ").unwrap_err().contains("empty"));
        assert!(check("<a>\n<b>").unwrap_err().contains("line 2"));
    }

    #[test]
    fn decimals_never_have_exponents() {
        let mut out = Vec::new();
        push_decimal(1.5e-8, &mut out);
        assert_eq!(out, b"0.000000015");
        out.clear();
        push_decimal(116.404, &mut out);
        assert_eq!(out, b"116.404");
    }
}
