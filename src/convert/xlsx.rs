//! Excel workbooks (`.xlsx`, Office Open XML) holding a point table: a header row (`点号, 编码,
//! X, Y, H`, `经度, 纬度`, `east, north`, ...) and one row per point, as city bureaus exchange
//! survey points.
//!
//! **Which sheet.** The workbook's first sheet (the first in the workbook's own order, hidden
//! or not). A first sheet that is not a worksheet (a chart sheet), or whose header names no
//! coordinate columns, is a [`ConvertError::Options`] that names every sheet of the workbook:
//! move the point table to the front, or name its columns.
//!
//! **Header and columns.** The header is the first row, among the first [`HEADER_ROWS`] rows
//! that hold a value, in which the coordinate columns are found — so a title row above the
//! header (`某某控制点成果表`, often merged across the columns) is passed over and copied. The
//! columns are found exactly as for CSV ([`csv`](super::csv): the same names, `--x-col`,
//! `--y-col`, `--z-col`, the same messages): `x`/`X` is the easting, and a Chinese table whose
//! X is the northing must name its columns. Header cells may be text (shared or inline strings)
//! or numbers.
//!
//! **Rows.** Every row after the header with at least one cell is a feature. Coordinates are
//! numeric cells, or text cells holding a number (`" 4312345.678 "`). A row whose x and y cells
//! are both empty or missing has no geometry (copied, counted as empty); a row with only one
//! of them, a text that is not a number, a boolean, an error value (`#N/A`) or an ISO date in a
//! coordinate cell fails with its row and cell (`sheet 'Sheet1', row 7: cell C7 (y column
//! 'Y'): 'abc' is not a number`). A row without a z value converts in 2D and its z cell stays
//! as it was. With [`skip_invalid`](super::ConvertOptions::skip_invalid) a failed row is left
//! out as in CSV: its `<row>` element is dropped, so it reads as a blank row; the rows after it
//! keep their numbers, so references to them elsewhere in the workbook stay right.
//!
//! **What is kept.** The workbook is a zip archive and only the first sheet's XML entry is
//! rewritten: every other entry (styles, shared strings, the other sheets, drawings, the
//! workbook and its relationships) is copied raw (its compressed bytes, CRC, name, time and
//! permissions; the `zip` crate writes its local header anew, so a header field out of the
//! specification — GDAL writes the date `1980-00-00` — comes out normalised), in the same
//! order, with the archive comment. In the sheet's XML only the values
//! of converted coordinate cells change: a numeric cell's `<v>` gets the converted number in
//! the shortest form that reads back exactly (Excel stores doubles); a coordinate held as a
//! text cell stays a text cell — it becomes an inline string (`t="inlineStr"`, `<is><t>…</t>
//! </is>`) with the converted number, its style kept, and the shared-string table is left
//! untouched (its entry stays; the table's optional `count` of references then counts one
//! reference too many, which Excel does not check). Every other byte of the sheet — styles,
//! column widths, merged cells, other cells and formulas — is copied. The rewritten entry is
//! compressed again with deflate at level 6 (zlib's default: about the size Excel and GDAL
//! write, for a fifth more time than level 1, which doubles the size), or stored if it was.
//!
//! **Formulas.** A formula in a coordinate cell (its cached value would be replaced while the
//! formula still computes the old one) is refused, naming the cell (`ConvertError::Options`):
//! replace the formulas by their values first. Formulas elsewhere in the sheet are kept with
//! their cached values and a warning names the first: if they depend on the coordinates, Excel
//! shows the old values until it recalculates.
//!
//! **Memory.** The sheet is streamed through the shared byte-level XML scanner (`xml.rs`, as
//! GPX and KML) in chunks of at most 16 384 rows or 16 MiB, each chunk's points converted in
//! parallel parts through the shared runner (`runner::in_place`: one `transform_slice` per
//! part);
//! the shared-string table is held in memory (at most 512 MiB of text).

use super::csv::{find_columns, Columns};
use super::runner;
use super::text::{self, Number};
use super::xml::{self, Kind, Scanner};
use super::{ConvertError, ConvertReport, Failure, Job, Tally};
use std::fs::File;
use std::io::{BufReader, Read, Seek, Write};
use std::ops::Range;
use std::path::Path;
use zip::result::ZipError;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

/// Rows per chunk.
const CHUNK_ROWS: usize = 16_384;
/// Bytes of sheet XML per chunk (a chunk ends after the row that crosses this).
const CHUNK_BYTES: usize = 16 << 20;
/// The rows holding a value in which the header is looked for (see the module docs).
pub const HEADER_ROWS: usize = 16;
/// The largest workbook part (workbook, relationships) read whole.
const MAX_PART: u64 = 64 << 20;
/// The largest shared-string table read.
const MAX_SHARED_STRINGS: u64 = 512 << 20;

fn malformed(path: &Path, location: &str, message: String) -> ConvertError {
    ConvertError::Malformed { path: path.to_path_buf(), location: location.into(), message }
}

fn zip_error(path: &Path, location: &str, e: ZipError) -> ConvertError {
    match e {
        ZipError::Io(source) => ConvertError::Io { path: path.to_path_buf(), source },
        e => malformed(path, location, e.to_string()),
    }
}

/// A sheet of the workbook: its name and, for a worksheet, its entry in the archive.
#[derive(Debug, Clone)]
pub(crate) struct SheetRef {
    pub(crate) name: String,
    entry: Option<String>,
}

/// The workbook's shared strings, one after the other in one buffer.
#[derive(Debug, Default)]
pub(crate) struct SharedStrings {
    text: String,
    ends: Vec<usize>,
}

impl SharedStrings {
    fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { *self.ends.get(i - 1)? };
        self.text.get(start..end)
    }
}

/// An opened workbook.
pub(crate) struct Book {
    archive: ZipArchive<BufReader<File>>,
    pub(crate) sheets: Vec<SheetRef>,
    strings: SharedStrings,
}

/// Opens the workbook `path`: its sheets and shared strings. Errors: not a zip archive, not a
/// workbook (no workbook part), malformed parts.
pub(crate) fn open(path: &Path) -> Result<Book, ConvertError> {
    let file = super::open_regular(path)?;
    let mut archive = ZipArchive::new(BufReader::new(file)).map_err(|e| match e {
        ZipError::Io(source) => ConvertError::Io { path: path.to_path_buf(), source },
        e => malformed(
            path,
            "archive",
            format!("not an Excel workbook (an .xlsx file is a zip archive): {e}"),
        ),
    })?;
    let not_a_workbook = |what: String| {
        malformed(path, "archive", format!("a zip archive but not an Excel workbook: {what}"))
    };
    // The workbook part: the package's officeDocument relationship (xl/workbook.xml).
    let workbook = match read_part(&mut archive, path, "_rels/.rels", MAX_PART)? {
        Some(rels) => relationships(&rels, path, "_rels/.rels", "")?
            .into_iter()
            .find(|r| r.kind.ends_with("/officeDocument"))
            .map(|r| r.target)
            .ok_or_else(|| not_a_workbook("_rels/.rels names no office document".into()))?,
        None => "xl/workbook.xml".to_string(),
    };
    let Some(book_xml) = read_part(&mut archive, path, &workbook, MAX_PART)? else {
        return Err(not_a_workbook(format!("no {workbook} in the archive")));
    };
    let folder = workbook.rfind('/').map_or("", |i| &workbook[..=i]).to_string();
    let file_name = workbook.rsplit('/').next().unwrap_or(&workbook);
    let rels_name = format!("{folder}_rels/{file_name}.rels");
    let rels = match read_part(&mut archive, path, &rels_name, MAX_PART)? {
        Some(bytes) => relationships(&bytes, path, &rels_name, &folder)?,
        None => Vec::new(),
    };
    if !is_spreadsheet(&book_xml) {
        return Err(not_a_workbook(format!("{workbook} is not a spreadsheet workbook")));
    }
    let mut sheets = Vec::new();
    each_tag(&book_xml, path, &workbook, |tag, attrs| {
        if xml::local(xml::name(tag)) == b"sheet" {
            let name = attr(tag, attrs, b"name", false).unwrap_or_default();
            let id = attr(tag, attrs, b"id", true).unwrap_or_default();
            let entry = rels
                .iter()
                .find(|r| r.id == id && r.kind.ends_with("/worksheet"))
                .map(|r| r.target.clone());
            sheets.push(SheetRef { name, entry });
        }
    })?;
    let strings = match rels.iter().find(|r| r.kind.ends_with("/sharedStrings")) {
        Some(r) => shared_strings(&mut archive, path, &r.target)?,
        None => SharedStrings::default(),
    };
    Ok(Book { archive, sheets, strings })
}

/// Whether the workbook part's root element is a spreadsheet `<workbook>`.
fn is_spreadsheet(book_xml: &[u8]) -> bool {
    let mut rest = book_xml;
    while let Some(i) = rest.iter().position(|&b| b == b'<') {
        rest = rest.get(i..).unwrap_or_default();
        match rest.get(1) {
            Some(b'?' | b'!') => rest = rest.get(1..).unwrap_or_default(),
            _ => return xml::local(xml::name(rest)) == b"workbook",
        }
    }
    false
}

/// `sheets` named for messages: `'Sheet1', '控制点'`.
fn sheet_list(sheets: &[SheetRef]) -> String {
    sheets.iter().map(|s| format!("'{}'", s.name)).collect::<Vec<_>>().join(", ")
}

impl Book {
    /// The first sheet, if it is a worksheet. Errors: no sheet, or a first sheet that is not a
    /// worksheet (naming the sheets).
    fn first_sheet(&self, path: &Path) -> Result<(String, String), ConvertError> {
        let first = self.sheets.first().ok_or_else(|| {
            malformed(path, "workbook", "the workbook has no sheet: nothing to convert".into())
        })?;
        match &first.entry {
            Some(entry) => Ok((first.name.clone(), entry.clone())),
            None => Err(ConvertError::Options {
                path: path.to_path_buf(),
                message: format!(
                    "the first sheet '{}' is not a worksheet (a chart sheet?); geounify \
                     converts the first sheet of a workbook (sheets: {}): move the point table \
                     to the front",
                    first.name,
                    sheet_list(&self.sheets)
                ),
            }),
        }
    }

    /// The first worksheet's name and the list of every sheet's, for messages.
    pub(crate) fn first_sheet_names(&self, path: &Path) -> Result<(String, String), ConvertError> {
        let (name, _) = self.first_sheet(path)?;
        Ok((name, sheet_list(&self.sheets)))
    }

    fn entry_index(&self, entry: &str, path: &Path) -> Result<usize, ConvertError> {
        self.archive.index_for_name(entry).ok_or_else(|| {
            malformed(path, "workbook", format!("the sheet's part {entry} is not in the archive"))
        })
    }
}

/// The whole entry `name`, if the archive has it; at most `cap` bytes.
fn read_part<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    path: &Path,
    name: &str,
    cap: u64,
) -> Result<Option<Vec<u8>>, ConvertError> {
    let entry = match archive.by_name(name) {
        Ok(e) => e,
        Err(ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(zip_error(path, &format!("entry {name}"), e)),
    };
    let mut out = Vec::new();
    entry
        .take(cap + 1)
        .read_to_end(&mut out)
        .map_err(|e| malformed(path, &format!("entry {name}"), e.to_string()))?;
    if out.len() as u64 > cap {
        return Err(malformed(
            path,
            &format!("entry {name}"),
            format!("larger than {} MiB", cap >> 20),
        ));
    }
    Ok(Some(out))
}

/// A relationship: id, type and target (resolved against the part's folder).
struct Relationship {
    id: String,
    kind: String,
    target: String,
}

fn relationships(
    bytes: &[u8],
    path: &Path,
    part: &str,
    folder: &str,
) -> Result<Vec<Relationship>, ConvertError> {
    let mut out = Vec::new();
    each_tag(bytes, path, part, |tag, attrs| {
        if xml::local(xml::name(tag)) != b"Relationship" {
            return;
        }
        let external = attr(tag, attrs, b"TargetMode", false).is_some_and(|m| m == "External");
        if external {
            return;
        }
        let target = attr(tag, attrs, b"Target", false).unwrap_or_default();
        out.push(Relationship {
            id: attr(tag, attrs, b"Id", false).unwrap_or_default(),
            kind: attr(tag, attrs, b"Type", false).unwrap_or_default(),
            target: resolve(folder, &target),
        });
    })?;
    Ok(out)
}

/// A relationship target inside the package: absolute (`/xl/…`) or relative to `folder`
/// (`worksheets/sheet1.xml`, `../x.xml`).
fn resolve(folder: &str, target: &str) -> String {
    let joined = if let Some(abs) = target.strip_prefix('/') {
        abs.to_string()
    } else {
        format!("{folder}{target}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// Calls `f` with every start and empty-element tag of the XML part `bytes` and its attributes.
fn each_tag(
    bytes: &[u8],
    path: &Path,
    part: &str,
    mut f: impl FnMut(&[u8], &[xml::Attribute]),
) -> Result<(), ConvertError> {
    let mut scanner = Scanner::new(bytes, path);
    let mut buf = Vec::new();
    let mut attrs = Vec::new();
    let bad = |line: u64, m: String| malformed(path, &format!("{part}, line {line}"), m);
    while let Some(item) = scanner.next_item(&mut buf)? {
        if matches!(item.kind, Kind::Start | Kind::Empty) {
            let tag = buf.get(item.range()).unwrap_or_default();
            xml::attributes(tag, &mut attrs).map_err(|m| bad(item.line, m))?;
            f(tag, &attrs);
        }
        buf.clear();
    }
    Ok(())
}

/// The unescaped value of attribute `wanted` of `tag`: by its exact name, or with `prefixed`
/// by its local name after a namespace prefix (`r:id`).
fn attr(tag: &[u8], attrs: &[xml::Attribute], wanted: &[u8], prefixed: bool) -> Option<String> {
    let a = attrs.iter().find(|a| {
        let name = tag.get(a.name.clone()).unwrap_or_default();
        if prefixed {
            name.contains(&b':') && xml::local(name) == wanted
        } else {
            name == wanted
        }
    })?;
    let raw = tag.get(a.value.clone())?;
    let text = xml::unescape(raw).ok()?;
    String::from_utf8(text.into_owned()).ok()
}

/// Reads the shared-string table `name`: each `<si>`'s text, its runs joined, phonetic
/// (`<rPh>`) runs left out.
fn shared_strings<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    path: &Path,
    name: &str,
) -> Result<SharedStrings, ConvertError> {
    let entry = match archive.by_name(name) {
        Ok(e) => e,
        Err(ZipError::FileNotFound) => return Ok(SharedStrings::default()),
        Err(e) => return Err(zip_error(path, &format!("entry {name}"), e)),
    };
    let part = path.join(name);
    let mut scanner = Scanner::new(entry.take(MAX_SHARED_STRINGS), &part);
    let mut out = SharedStrings::default();
    let mut buf = Vec::new();
    let (mut in_t, mut in_phonetic) = (false, false);
    while let Some(item) = scanner.next_item(&mut buf)? {
        let bytes = buf.get(item.range()).unwrap_or_default();
        match item.kind {
            Kind::Start | Kind::Empty | Kind::End => {
                let local = xml::local(xml::name(bytes));
                let start = item.kind == Kind::Start;
                match local {
                    b"t" => in_t = start,
                    b"rPh" => in_phonetic = start,
                    b"si" if item.kind != Kind::Start => out.ends.push(out.text.len()),
                    _ => {}
                }
            }
            Kind::Text if in_t && !in_phonetic => {
                let text = xml::unescape(bytes).map_err(|m| xml::malformed(&part, item.line, m))?;
                let text = std::str::from_utf8(&text)
                    .map_err(|_| xml::malformed(&part, item.line, "text that is not UTF-8"))?;
                out.text.push_str(text);
            }
            Kind::CData if in_t && !in_phonetic => {
                let inner = bytes.get(9..bytes.len().saturating_sub(3)).unwrap_or_default();
                out.text.push_str(&String::from_utf8_lossy(inner));
            }
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

/// What a cell holds, by its `t` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CellKind {
    /// A number (no `t`, or `t="n"`).
    Number,
    /// An index into the shared strings (`t="s"`).
    Shared,
    /// An inline string (`t="inlineStr"`).
    Inline,
    /// A formula's text result (`t="str"`).
    FormulaText,
    /// A boolean (`t="b"`).
    Boolean,
    /// An error value (`t="e"`).
    Error,
    /// An ISO 8601 date (`t="d"`).
    Date,
}

/// A cell as the scan found it; byte ranges in the chunk's buffer.
#[derive(Debug, Clone)]
struct RawCell {
    /// 0-based column.
    col: u32,
    kind: CellKind,
    /// The `t` attribute's value, to rewrite a text cell as an inline string.
    t_value: Option<Range<usize>>,
    /// The start tag.
    tag: Range<usize>,
    /// Between the start tag and `</c>` (`None` for `<c …/>`).
    content: Option<Range<usize>>,
    /// Between `<v>` and `</v>`.
    value: Option<Range<usize>>,
    /// Between `<is>` and `</is>`.
    inline: Option<Range<usize>>,
    formula: bool,
}

/// A `<row>` element: its bytes, number (1-based) and cells.
#[derive(Debug)]
struct RawRow {
    range: Range<usize>,
    number: u32,
    cells: Vec<RawCell>,
}

/// `B7` for column 1, row 7.
pub(crate) fn cell_ref(col: u32, row: u32) -> String {
    let mut letters = Vec::new();
    let mut n = col + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    format!("{}{row}", String::from_utf8_lossy(&letters))
}

/// The 0-based column of a cell reference (`AB12` → 27).
fn column_of(reference: &[u8]) -> Option<u32> {
    let letters = reference.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 || letters > 3 {
        return None;
    }
    let mut n: u32 = 0;
    for &b in reference.get(..letters)? {
        n = n * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1;
    }
    let digits = reference.get(letters..)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(n - 1)
}

/// Cuts a sheet's XML into rows, appending every byte to the caller's buffer.
struct SheetScan<'p, R> {
    scanner: Scanner<'p, R>,
    nesting: xml::Nesting,
    path: &'p Path,
    attrs: Vec<xml::Attribute>,
    in_data: bool,
    row: Option<RawRow>,
    cell: Option<RawCell>,
    value_start: Option<usize>,
    inline_start: Option<usize>,
    last_row: u32,
    last_col: Option<u32>,
    /// Whether the root element was met and closed.
    done: bool,
}

impl<'p, R: Read> SheetScan<'p, R> {
    fn new(input: R, path: &'p Path) -> Self {
        Self {
            scanner: Scanner::new(input, path),
            nesting: xml::Nesting::default(),
            path,
            attrs: Vec::new(),
            in_data: false,
            row: None,
            cell: None,
            value_start: None,
            inline_start: None,
            last_row: 0,
            last_col: None,
            done: false,
        }
    }

    fn bad(&self, line: u64, message: impl Into<String>) -> ConvertError {
        xml::malformed(self.path, line, message)
    }

    /// Appends items to `buf` up to the end of the next row; the row, or `None` at the end of
    /// the sheet (every byte appended).
    fn next_row(&mut self, buf: &mut Vec<u8>) -> Result<Option<RawRow>, ConvertError> {
        while let Some(item) = self.scanner.next_item(buf)? {
            let bytes = buf.get(item.range()).unwrap_or_default();
            self.nesting
                .step(&item, bytes)
                .map_err(|m| self.bad(self.nesting.error_line(&item), m))?;
            if !matches!(item.kind, Kind::Start | Kind::Empty | Kind::End) {
                continue;
            }
            let local = xml::local(xml::name(bytes));
            match (item.kind, local) {
                (Kind::Start, b"sheetData") => self.in_data = true,
                (Kind::End, b"sheetData") => self.in_data = false,
                (Kind::Start | Kind::Empty, b"row") if self.in_data => {
                    xml::attributes(bytes, &mut self.attrs).map_err(|m| self.bad(item.line, m))?;
                    let number =
                        match attr(bytes, &self.attrs, b"r", false) {
                            Some(r) => r.trim().parse::<u32>().ok().filter(|&n| n > 0).ok_or_else(
                                || self.bad(item.line, format!("a row numbered '{r}'")),
                            )?,
                            None => self.last_row + 1,
                        };
                    self.last_row = number;
                    self.last_col = None;
                    let row = RawRow { range: item.range(), number, cells: Vec::new() };
                    if item.kind == Kind::Empty {
                        return Ok(Some(row));
                    }
                    self.row = Some(row);
                }
                (Kind::End, b"row") if self.in_data => {
                    if let Some(mut row) = self.row.take() {
                        row.range.end = item.end;
                        return Ok(Some(row));
                    }
                }
                (Kind::Start | Kind::Empty, b"c") if self.row.is_some() => {
                    xml::attributes(bytes, &mut self.attrs).map_err(|m| self.bad(item.line, m))?;
                    let col = match self
                        .attrs
                        .iter()
                        .find(|a| bytes.get(a.name.clone()) == Some(b"r"))
                    {
                        Some(a) => {
                            let r = bytes.get(a.value.clone()).unwrap_or_default();
                            column_of(r).ok_or_else(|| {
                                self.bad(
                                    item.line,
                                    format!("a cell reference '{}'", String::from_utf8_lossy(r)),
                                )
                            })?
                        }
                        None => self.last_col.map_or(0, |c| c + 1),
                    };
                    self.last_col = Some(col);
                    let t = self.attrs.iter().find(|a| bytes.get(a.name.clone()) == Some(b"t"));
                    let kind = match t.and_then(|a| bytes.get(a.value.clone())) {
                        None | Some(b"n") => CellKind::Number,
                        Some(b"s") => CellKind::Shared,
                        Some(b"inlineStr") => CellKind::Inline,
                        Some(b"str") => CellKind::FormulaText,
                        Some(b"b") => CellKind::Boolean,
                        Some(b"e") => CellKind::Error,
                        Some(b"d") => CellKind::Date,
                        Some(other) => {
                            return Err(self.bad(
                                item.line,
                                format!(
                                    "cell {}: an unknown cell type t=\"{}\"",
                                    cell_ref(col, self.last_row),
                                    String::from_utf8_lossy(other)
                                ),
                            ))
                        }
                    };
                    let t_value = t.map(|a| item.start + a.value.start..item.start + a.value.end);
                    let cell = RawCell {
                        col,
                        kind,
                        t_value,
                        tag: item.range(),
                        content: None,
                        value: None,
                        inline: None,
                        formula: false,
                    };
                    if item.kind == Kind::Empty {
                        if let Some(row) = self.row.as_mut() {
                            row.cells.push(cell);
                        }
                    } else {
                        self.cell = Some(cell);
                    }
                }
                (Kind::End, b"c") => {
                    if let (Some(mut cell), Some(row)) = (self.cell.take(), self.row.as_mut()) {
                        cell.content = Some(cell.tag.end..item.start);
                        row.cells.push(cell);
                    }
                }
                (Kind::Start | Kind::Empty, b"f") => {
                    if let Some(cell) = self.cell.as_mut() {
                        cell.formula = true;
                    }
                }
                (Kind::Start, b"v") if self.cell.is_some() => self.value_start = Some(item.end),
                (Kind::End, b"v") => {
                    if let (Some(start), Some(cell)) = (self.value_start.take(), self.cell.as_mut())
                    {
                        cell.value = Some(start..item.start);
                    }
                }
                (Kind::Start, b"is") if self.cell.is_some() => self.inline_start = Some(item.end),
                (Kind::End, b"is") => {
                    if let (Some(start), Some(cell)) =
                        (self.inline_start.take(), self.cell.as_mut())
                    {
                        cell.inline = Some(start..item.start);
                    }
                }
                _ => {}
            }
        }
        if !self.done {
            self.done = true;
            self.nesting.finish(self.scanner.line()).map_err(|(line, m)| self.bad(line, m))?;
        }
        Ok(None)
    }
}

/// The text of an inline string's content (`<t>` runs joined, phonetic runs left out).
fn inline_text(content: &[u8]) -> String {
    let mut out = String::new();
    let mut rest = content;
    let mut phonetic = false;
    while let Some(lt) = rest.iter().position(|&b| b == b'<') {
        let after = rest.get(lt..).unwrap_or_default();
        let Some(gt) = after.iter().position(|&b| b == b'>') else { break };
        let tag = after.get(..=gt).unwrap_or_default();
        rest = after.get(gt + 1..).unwrap_or_default();
        let local = xml::local(xml::name(tag));
        let closing = tag.get(1) == Some(&b'/');
        let empty = tag.ends_with(b"/>");
        match local {
            b"rPh" => phonetic = !closing && !empty,
            b"t" if !closing && !empty && !phonetic => {
                let end = rest.iter().position(|&b| b == b'<').unwrap_or(rest.len());
                let raw = rest.get(..end).unwrap_or_default();
                if let Ok(text) = xml::unescape(raw) {
                    out.push_str(&String::from_utf8_lossy(&text));
                }
            }
            _ => {}
        }
    }
    out
}

/// The text a cell shows (for header names and attribute values): a number as stored, a
/// string resolved, `TRUE`/`FALSE`, an error code; `""` for an empty cell.
fn cell_text(cell: &RawCell, buf: &[u8], strings: &SharedStrings) -> String {
    let value = || {
        let raw = cell.value.clone().and_then(|r| buf.get(r)).unwrap_or_default();
        xml::unescape(raw).map(|t| String::from_utf8_lossy(&t).into_owned()).unwrap_or_default()
    };
    match cell.kind {
        CellKind::Shared => value()
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|i| strings.get(i))
            .unwrap_or_default()
            .to_string(),
        CellKind::Inline => {
            inline_text(cell.inline.clone().and_then(|r| buf.get(r)).unwrap_or_default())
        }
        CellKind::Boolean => match value().trim() {
            "1" => "TRUE".into(),
            "0" => "FALSE".into(),
            other => other.to_string(),
        },
        _ => value(),
    }
}

/// The header names of `row`, by column (gaps as empty names).
fn row_names(row: &RawRow, buf: &[u8], strings: &SharedStrings) -> Vec<String> {
    let mut names = Vec::new();
    for cell in &row.cells {
        let col = cell.col as usize;
        if names.len() <= col {
            names.resize(col + 1, String::new());
        }
        if let Some(slot) = names.get_mut(col) {
            *slot = cell_text(cell, buf, strings).trim().to_string();
        }
    }
    while names.last().is_some_and(String::is_empty) {
        names.pop();
    }
    names
}

/// The first sheet's header: the columns, once found (see the module docs). Appends every
/// byte up to the end of the header row to `buf`, flushing to `flush` when it grows past a
/// chunk. Errors: an empty sheet, no header found (naming the sheets).
fn find_header<R: Read>(
    scan: &mut SheetScan<'_, R>,
    buf: &mut Vec<u8>,
    mut flush: impl FnMut(&[u8]) -> Result<(), ConvertError>,
    (strings, sheets): (&SharedStrings, &[SheetRef]),
    sheet: &str,
    job: &Job<'_>,
) -> Result<Columns, ConvertError> {
    let o = job.options;
    let mut first_error: Option<String> = None;
    let mut seen = 0;
    while let Some(row) = scan.next_row(buf)? {
        let names = row_names(&row, buf, strings);
        if names.iter().any(|n| !n.is_empty()) {
            seen += 1;
            match find_columns(&names, o.x_col.as_deref(), o.y_col.as_deref(), o.z_col.as_deref()) {
                Ok(columns) => return Ok(columns),
                Err(m) => {
                    first_error.get_or_insert(m);
                }
            }
            if seen >= HEADER_ROWS {
                break;
            }
        }
        if buf.len() >= CHUNK_BYTES {
            flush(buf)?;
            buf.clear();
        }
    }
    let Some(message) = first_error else {
        return Err(malformed(
            job.input,
            &format!("sheet '{sheet}'"),
            "the sheet is empty (no header row): nothing to convert".into(),
        ));
    };
    Err(ConvertError::Options {
        path: job.input.to_path_buf(),
        message: format!(
            "sheet '{sheet}' (geounify converts the first sheet; the workbook's sheets: {}), \
             none of its first {HEADER_ROWS} rows is a header with coordinate columns; first \
             row: {message}",
            sheet_list(sheets)
        ),
    })
}

/// A data row of a chunk on its way through the transformer.
struct Slot {
    row: RawRow,
    /// The index in `row.cells` of the x, y and z cells.
    coords: [Option<usize>; 3],
    state: State,
}

enum State {
    /// Not a feature (no cell): copied.
    Pass,
    /// Parsed, waiting for the batch.
    Pending,
    /// No geometry: copied.
    Empty,
    Failed(String),
    /// The converted point and the number of values written back (2, or 3 with a z).
    Converted([f64; 3], usize),
}

/// Where the cells of one role are, and which column is which, for messages.
struct Roles<'a> {
    columns: &'a Columns,
}

impl Roles<'_> {
    fn column(&self, role: usize) -> Option<usize> {
        match role {
            0 => Some(self.columns.x),
            1 => Some(self.columns.y),
            _ => self.columns.z,
        }
    }

    fn describe(&self, role: usize, cell: &RawCell, row: u32) -> String {
        format!(
            "cell {} ({} column '{}')",
            cell_ref(cell.col, row),
            ["x", "y", "z"].get(role).copied().unwrap_or("z"),
            self.columns.names.get(role).map_or("", String::as_str)
        )
    }

    /// The slot of `row`; a formula in a coordinate cell is refused.
    fn slot(&self, row: RawRow, path: &Path) -> Result<Slot, ConvertError> {
        let mut coords = [None; 3];
        for (role, slot) in coords.iter_mut().enumerate() {
            let Some(col) = self.column(role) else { continue };
            *slot = row.cells.iter().position(|c| c.col as usize == col);
            if let Some(cell) = slot.and_then(|i| row.cells.get(i)) {
                if cell.formula {
                    return Err(ConvertError::Options {
                        path: path.to_path_buf(),
                        message: format!(
                            "{} holds a formula: its cached value would be replaced while the \
                             formula still computes the old one; replace the coordinate \
                             formulas by their values first",
                            self.describe(role, cell, row.number)
                        ),
                    });
                }
            }
        }
        let state = if row.cells.is_empty() { State::Pass } else { State::Pending };
        Ok(Slot { row, coords, state })
    }

    /// The number in coordinate cell `role` of `slot`: `Ok(None)` if empty or missing.
    fn number(
        &self,
        slot: &Slot,
        role: usize,
        buf: &[u8],
        strings: &SharedStrings,
    ) -> Result<Option<f64>, String> {
        let Some(cell) =
            slot.coords.get(role).copied().flatten().and_then(|i| slot.row.cells.get(i))
        else {
            return Ok(None);
        };
        let what = match cell.kind {
            CellKind::Number | CellKind::Shared | CellKind::Inline => None,
            CellKind::Boolean => Some("a boolean"),
            CellKind::Error => Some("an error value"),
            CellKind::Date => Some("a date"),
            CellKind::FormulaText => Some("a formula's text"),
        };
        let text = cell_text(cell, buf, strings);
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if let Some(what) = what {
            return Err(format!(
                "{} holds {what} ('{}'), not a number",
                self.describe(role, cell, slot.row.number),
                shown(text)
            ));
        }
        text::parse_coordinate(text).map(Some).ok_or_else(|| {
            format!(
                "{}: '{}' is not a number",
                self.describe(role, cell, slot.row.number),
                shown(text)
            )
        })
    }

    /// The point of `slot` (`Ok(None)`: no geometry) and whether it has z.
    fn point(
        &self,
        slot: &Slot,
        buf: &[u8],
        strings: &SharedStrings,
    ) -> Result<Option<([f64; 3], bool)>, String> {
        let x = self.number(slot, 0, buf, strings)?;
        let y = self.number(slot, 1, buf, strings)?;
        let (x, y) = match (x, y) {
            (None, None) => return Ok(None),
            (Some(x), Some(y)) => (x, y),
            (None, Some(_)) => return Err("x is empty but y is not".into()),
            (Some(_), None) => return Err("y is empty but x is not".into()),
        };
        let z = self.number(slot, 2, buf, strings)?;
        Ok(Some(([x, y, z.unwrap_or(0.0)], z.is_some())))
    }
}

/// `text` for a message: at most 40 characters.
fn shown(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// Appends `row` (its bytes in `buf`) with its converted coordinate cells rewritten.
fn write_row(out: &mut Vec<u8>, buf: &[u8], slot: &Slot, values: [f64; 3], count: usize) {
    enum Put {
        Number(f64),
        InlineType,
        InlineNumber(f64),
    }
    let mut edits: Vec<(Range<usize>, Put)> = Vec::with_capacity(4);
    for (role, &v) in values.iter().enumerate().take(count) {
        let Some(cell) =
            slot.coords.get(role).copied().flatten().and_then(|i| slot.row.cells.get(i))
        else {
            continue;
        };
        match cell.kind {
            CellKind::Number => {
                if let Some(r) = cell.value.clone() {
                    edits.push((r, Put::Number(v)));
                }
            }
            _ => {
                if let (Some(t), Some(content)) = (cell.t_value.clone(), cell.content.clone()) {
                    edits.push((t, Put::InlineType));
                    edits.push((content, Put::InlineNumber(v)));
                }
            }
        }
    }
    edits.sort_unstable_by_key(|(r, _)| r.start);
    let mut at = slot.row.range.start;
    for (range, put) in edits {
        out.extend_from_slice(buf.get(at..range.start).unwrap_or_default());
        match put {
            Put::Number(v) => Number(v).push_to(out),
            Put::InlineType => out.extend_from_slice(b"inlineStr"),
            Put::InlineNumber(v) => {
                out.extend_from_slice(b"<is><t>");
                Number(v).push_to(out);
                out.extend_from_slice(b"</t></is>");
            }
        }
        at = range.end;
    }
    out.extend_from_slice(buf.get(at..slot.row.range.end).unwrap_or_default());
}

/// Converts the sheet XML `input` into `output`; counts into `report` and `tally`. The
/// warnings.
fn convert_sheet<R: Read, W: Write>(
    job: &Job<'_>,
    (strings, sheets): (&SharedStrings, &[SheetRef]),
    sheet: &str,
    input: R,
    output: &mut W,
    report: &mut ConvertReport,
    tally: &mut Tally,
) -> Result<Vec<String>, ConvertError> {
    let io_out = |source| ConvertError::Io { path: job.output.to_path_buf(), source };
    let part = job.input.join(sheet);
    let mut scan = SheetScan::new(input, &part);
    let mut buf = Vec::new();
    let columns = find_header(
        &mut scan,
        &mut buf,
        |bytes| output.write_all(bytes).map_err(io_out),
        (strings, sheets),
        sheet,
        job,
    )?;
    output.write_all(&buf).map_err(io_out)?;
    buf.clear();
    let roles = Roles { columns: &columns };
    let mut formula: Option<String> = None;
    let mut text = Vec::new();
    loop {
        let mut slots: Vec<Slot> = Vec::new();
        let mut more = true;
        while slots.len() < CHUNK_ROWS && buf.len() < CHUNK_BYTES {
            match scan.next_row(&mut buf)? {
                Some(row) => {
                    if formula.is_none() {
                        if let Some(c) = row.cells.iter().find(|c| c.formula) {
                            formula = Some(cell_ref(c.col, row.number));
                        }
                    }
                    slots.push(roles.slot(row, job.input)?);
                }
                None => {
                    more = false;
                    break;
                }
            }
        }
        let chunk = &buf;
        runner::in_place(
            job.transformer,
            job.options.parallel,
            &mut slots,
            |slot, points| {
                if !matches!(slot.state, State::Pending) {
                    return false;
                }
                match roles.point(slot, chunk, strings) {
                    Ok(Some((p, z))) => {
                        points.push(p);
                        slot.state = State::Converted(p, if z { 3 } else { 2 });
                        true
                    }
                    Ok(None) => {
                        slot.state = State::Empty;
                        false
                    }
                    Err(reason) => {
                        slot.state = State::Failed(reason);
                        false
                    }
                }
            },
            |slot, converted| {
                let count = match slot.state {
                    State::Converted(_, n) => n,
                    _ => 2,
                };
                slot.state = match converted {
                    Ok([p, ..]) => State::Converted(*p, count),
                    Ok([]) => State::Empty,
                    Err(e) => {
                        let cells: Vec<String> = (0..2)
                            .filter_map(|role| {
                                let i = slot.coords.get(role).copied().flatten()?;
                                let c = slot.row.cells.get(i)?;
                                Some(cell_ref(c.col, slot.row.number))
                            })
                            .collect();
                        State::Failed(format!("cells {}: {e}", cells.join(", ")))
                    }
                };
            },
        );
        text.clear();
        let mut at = 0;
        for slot in &slots {
            if !tally.failed() {
                text.extend_from_slice(buf.get(at..slot.row.range.start).unwrap_or_default());
            }
            at = slot.row.range.end;
            let raw = buf.get(slot.row.range.clone()).unwrap_or_default();
            match &slot.state {
                State::Pass => text.extend_from_slice(raw),
                State::Pending | State::Empty => {
                    report.features += 1;
                    report.empty += 1;
                    text.extend_from_slice(raw);
                }
                State::Converted(p, count) => {
                    report.features += 1;
                    report.vertices += 1;
                    write_row(&mut text, &buf, slot, *p, *count);
                }
                State::Failed(reason) => {
                    report.features += 1;
                    let location = format!("sheet '{sheet}', row {}", slot.row.number);
                    tally.record(
                        report,
                        job.options.skip_invalid,
                        Failure { location, reason: reason.clone() },
                    );
                }
            }
        }
        if !tally.failed() {
            text.extend_from_slice(buf.get(at..).unwrap_or_default());
            output.write_all(&text).map_err(io_out)?;
        }
        buf.clear();
        if !more {
            break;
        }
    }
    let mut warnings = Vec::new();
    if let Some(cell) = formula {
        warnings.push(format!(
            "sheet '{sheet}' has formulas (first: cell {cell}); they are kept with their cached \
             values: if they depend on the coordinates, Excel shows the old values until it \
             recalculates"
        ));
    }
    Ok(warnings)
}

/// Converts `job.input` into `job.output` (the first sheet's coordinates rewritten, every
/// other entry copied raw) through a temporary file renamed only on success.
pub(crate) fn convert_file(job: &Job<'_>) -> Result<ConvertReport, ConvertError> {
    let mut book = open(job.input)?;
    let (sheet_name, entry_name) = book.first_sheet(job.input)?;
    let sheet_index = book.entry_index(&entry_name, job.input)?;
    let count = book.archive.len();
    super::through_temporary(job, |_, out| {
        let io_out = |source| ConvertError::Io { path: job.output.to_path_buf(), source };
        let zip_out =
            |e: ZipError| io_out(std::io::Error::other(format!("writing the workbook: {e}")));
        let mut writer = ZipWriter::new(&mut *out);
        let mut report = ConvertReport::default();
        let mut tally = Tally::default();
        let mut warnings = Vec::new();
        let Book { archive, strings, sheets } = &mut book;
        for i in 0..count {
            if i != sheet_index {
                let entry = archive
                    .by_index_raw(i)
                    .map_err(|e| zip_error(job.input, &format!("entry #{}", i + 1), e))?;
                writer.raw_copy_file(entry).map_err(zip_out)?;
                continue;
            }
            let entry = archive
                .by_index(i)
                .map_err(|e| zip_error(job.input, &format!("entry {entry_name}"), e))?;
            let mut options = SimpleFileOptions::default().large_file(entry.size() >= 1 << 30);
            options = match entry.compression() {
                CompressionMethod::Stored => options.compression_method(CompressionMethod::Stored),
                _ => options
                    .compression_method(CompressionMethod::Deflated)
                    .compression_level(Some(6)),
            };
            if let Some(time) = entry.last_modified() {
                options = options.last_modified_time(time);
            }
            if let Some(mode) = entry.unix_mode() {
                options = options.unix_permissions(mode);
            }
            writer.start_file(entry_name.as_str(), options).map_err(zip_out)?;
            warnings = convert_sheet(
                job,
                (&*strings, &*sheets),
                &sheet_name,
                entry,
                &mut writer,
                &mut report,
                &mut tally,
            )?;
        }
        tally.finish(&mut report, job.input)?;
        writer.set_raw_comment(archive.comment().into()).map_err(zip_out)?;
        writer.finish().map_err(zip_out)?.flush().map_err(io_out)?;
        report.warnings.extend(warnings);
        job.progress.advance(std::fs::metadata(job.input).map_or(0, |m| m.len()));
        Ok(report)
    })
}

/// Up to `max` coordinates `[x, y, z]` (z = 0 without a z value) from the first sheet's first
/// rows, for the sanity check; rows without geometry or with bad values are passed over.
pub(crate) fn sample(job: &Job<'_>, max: usize) -> Result<Vec<[f64; 3]>, ConvertError> {
    let mut book = open(job.input)?;
    let (sheet_name, entry_name) = book.first_sheet(job.input)?;
    let index = book.entry_index(&entry_name, job.input)?;
    let Book { archive, strings, sheets } = &mut book;
    let entry = archive
        .by_index(index)
        .map_err(|e| zip_error(job.input, &format!("entry {entry_name}"), e))?;
    let part = job.input.join(&sheet_name);
    let mut scan = SheetScan::new(entry, &part);
    let mut buf = Vec::new();
    let columns =
        match find_header(&mut scan, &mut buf, |_| Ok(()), (&*strings, &*sheets), &sheet_name, job)
        {
            Ok(c) => c,
            // A sheet with a `wkt` column instead (read by conversions into other formats).
            Err(e) => return super::cross::xlsx::wkt_sample(job, max).unwrap_or(Err(e)),
        };
    let roles = Roles { columns: &columns };
    let mut out = Vec::new();
    while out.len() < max {
        buf.clear();
        let Some(row) = scan.next_row(&mut buf)? else { break };
        let Ok(slot) = roles.slot(row, job.input) else { continue };
        if let Ok(Some((p, _))) = roles.point(&slot, &buf, strings) {
            out.push(p);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references() {
        assert_eq!(cell_ref(0, 1), "A1");
        assert_eq!(cell_ref(25, 7), "Z7");
        assert_eq!(cell_ref(26, 7), "AA7");
        assert_eq!(cell_ref(16_383, 2), "XFD2");
        assert_eq!(column_of(b"AB12"), Some(27));
        assert_eq!(column_of(b"a1"), Some(0));
        assert_eq!(column_of(b"12"), None);
        assert_eq!(column_of(b"A1B"), None);
        assert_eq!(resolve("xl/", "worksheets/sheet1.xml"), "xl/worksheets/sheet1.xml");
        assert_eq!(resolve("xl/", "/xl/sharedStrings.xml"), "xl/sharedStrings.xml");
        assert_eq!(resolve("xl/", "../customXml/item1.xml"), "customXml/item1.xml");
        assert_eq!(
            inline_text(
                b"<r><t>12</t></r><rPh><t>x</t></rPh><r><t xml:space=\"preserve\">.5</t></r>"
            ),
            "12.5"
        );
    }
}
