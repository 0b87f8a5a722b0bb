//! FlatGeobuf (`.fgb`, format version 3): a header (FlatBuffers `Header` table with the columns
//! and the CRS), an optional packed Hilbert R-tree index, then the features, each a
//! size-prefixed FlatBuffers `Feature` table holding its `Geometry` (flat `xy`, `z`, `m`
//! arrays, `ends`, `parts`) and its properties as raw bytes.
//!
//! **Into FlatGeobuf (same format).** Every feature's bytes are copied and only its coordinate
//! doubles are rewritten in place: x/y through the batch path, z by the height rule (passed as
//! the third coordinate, written back only where the input has a `z` array), `m`, `t`, `tm`,
//! `ends`, types, the properties bytes and every other byte of the feature kept. Feature sizes do
//! not change, so the features keep their order and their byte offsets.
//!
//! - The header is rebuilt from its fields: name, title, description, `metadata`, geometry type
//!   and `has_*` flags, the columns with all their attributes, copied; `features_count` is the
//!   number written; the `envelope` is recomputed (4 values, x and y, when the input has one or
//!   the index needs one); the `crs` is the target's: organisation `EPSG` and its code for an EPSG
//!   CRS, its name, and its WKT 1 (as [`Crs::to_wkt`](crate::crs::Crs::to_wkt) writes the
//!   Shapefile `.prj`); a CRS without an EPSG code (GCJ-02, BD-09, a city grid) gets no
//!   organisation and code 0, its geounify id as `code_string`, its name, and a description
//!   saying what it is, plus WKT where WKT can express it (a warning otherwise). A header field
//!   this reader does not know (a newer schema) is not carried: warned.
//! - **Index.** If the input has the packed R-tree (`index_node_size` > 0), the output gets one
//!   built as the specification lays it out (level bounds, parents' boxes as the union of their
//!   children, a parent's offset the index of its first child, leaves holding each feature's
//!   byte offset in the feature section), from the converted features' boxes, **in the input's
//!   feature order**: the order is kept, so FIDs stay the same and the file is streamed. The
//!   input was Hilbert-sorted on its own coordinates; a coordinate conversion is smooth, so that
//!   order keeps its locality and the tree stays tight (readers only need a valid tree: GDAL's
//!   `ogrinfo -spat` finds the same features). The leaves' boxes are held in memory (40 bytes per
//!   feature, the size of the index itself); a feature without geometry gets the empty box.
//! - Features are read in chunks of [`CHUNK`] features or [`CHUNK_BYTES`] bytes and converted
//!   through the shared runner (`runner::in_place`); a feature is at most
//!   [`MAX_RECORD_BYTES`](super::MAX_RECORD_BYTES). Sizes (header, index, feature) are checked
//!   against the bytes left in the file before anything is allocated.
//! - A feature with a point that cannot be converted fails the conversion (location
//!   `feature N`, 1-based), or with `skip_invalid` is left out (the index and count follow).
//! - Validation: magic bytes `fgb` version 3, the FlatBuffers tables bounds-checked (offsets,
//!   vtables, vector lengths), `z`/`m` arrays as long as the points, nesting of `parts` at most
//!   [`MAX_DEPTH`]; otherwise [`ConvertError::Malformed`] naming `header`, `index` or
//!   `feature N`, and nothing written.
//!
//! The declared CRS is the header's `crs`: `EPSG` organisation and code, else its WKT, else its
//! `code_string`.
//!
//! The FlatBuffers tables are read and written by this module's own small reader and builder
//! (the published `header.fbs` / `feature.fbs` schema): rewriting coordinates in place needs a
//! bounds-checked reader of the raw bytes anyway, and the `flatgeobuf` crate would bring geozero
//! and re-encode what it reads. Objects are aligned relative to the size prefix, as GDAL writes
//! them.

use super::atomic::AtomicFile;
use super::declared::DeclaredCrs;
use super::{ConvertError, ConvertReport, Failure, Job, Tally};
use crate::crs::Crs;
use crate::error::PointError;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Features converted per chunk.
pub const CHUNK: usize = 65_536;
/// Feature bytes held per chunk (64 MiB).
pub const CHUNK_BYTES: usize = 64 << 20;
/// The deepest nesting of geometry `parts` read (collections of collections).
pub const MAX_DEPTH: usize = 64;
/// The largest header read (16 MiB; GDAL refuses more than 10 MB).
pub const MAX_HEADER_BYTES: u32 = 16 << 20;

/// The magic bytes: `fgb`, major version 3, `fgb`, then a patch version (any).
pub(crate) const MAGIC: [u8; 7] = [b'f', b'g', b'b', 3, b'f', b'g', b'b'];
/// The patch version written.
const PATCH: u8 = 1;
/// The size of one packed R-tree node: min x, min y, max x, max y, offset.
pub(crate) const NODE_BYTES: u64 = 40;

// ---------------------------------------------------------------------------------------------
// FlatBuffers reading (bounds-checked)

fn get<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    let s = b.get(at..at.checked_add(N)?)?;
    let mut a = [0u8; N];
    a.copy_from_slice(s);
    Some(a)
}

pub(crate) fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    get::<2>(b, at).map(u16::from_le_bytes)
}
pub(crate) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    get::<4>(b, at).map(u32::from_le_bytes)
}
pub(crate) fn f64_at(b: &[u8], at: usize) -> Option<f64> {
    get::<8>(b, at).map(f64::from_le_bytes)
}
fn put_f64(b: &mut [u8], at: usize, v: f64) {
    if let Some(s) = b.get_mut(at..at + 8) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

/// A FlatBuffers table in a buffer: where it is and its vtable.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Table<'a> {
    b: &'a [u8],
    pos: usize,
    vt: usize,
    vt_len: usize,
    len: usize,
}

type R<T> = Result<T, String>;

impl<'a> Table<'a> {
    /// The root table of a buffer.
    pub(crate) fn root(b: &'a [u8]) -> R<Self> {
        let pos = u32_at(b, 0).ok_or("no root offset")? as usize;
        Self::at(b, pos)
    }

    fn at(b: &'a [u8], pos: usize) -> R<Self> {
        let soff = get::<4>(b, pos).map(i32::from_le_bytes).ok_or("a table beyond the buffer")?;
        let vt = i64::try_from(pos).map_err(|e| e.to_string())? - i64::from(soff);
        let vt = usize::try_from(vt).map_err(|_| "a vtable before the buffer".to_string())?;
        let vt_len = u16_at(b, vt).ok_or("a vtable beyond the buffer")? as usize;
        let len = u16_at(b, vt + 2).ok_or("a vtable beyond the buffer")? as usize;
        if vt_len < 4
            || !vt_len.is_multiple_of(2)
            || vt + vt_len > b.len()
            || pos + len.max(4) > b.len()
        {
            return Err("a vtable or table beyond the buffer".into());
        }
        Ok(Self { b, pos, vt, vt_len, len })
    }

    /// How many fields the vtable has slots for.
    pub(crate) fn slots(&self) -> usize {
        (self.vt_len - 4) / 2
    }

    /// Whether slot `id` beyond `known` is set (a field of a newer schema).
    fn has_unknown(&self, known: usize) -> bool {
        (known..self.slots()).any(|id| self.field(id).is_some())
    }

    /// The position of field `id`, if present.
    fn field(&self, id: usize) -> Option<usize> {
        let at = 4 + 2 * id;
        if at >= self.vt_len {
            return None;
        }
        let off = u16_at(self.b, self.vt + at)? as usize;
        (off != 0 && off < self.len.max(4)).then_some(self.pos + off)
    }

    fn scalar<const N: usize>(&self, id: usize) -> R<Option<[u8; N]>> {
        match self.field(id) {
            None => Ok(None),
            Some(p) => get::<N>(self.b, p).map(Some).ok_or_else(|| "a field beyond".into()),
        }
    }
    pub(crate) fn u8(&self, id: usize, default: u8) -> R<u8> {
        Ok(self.scalar::<1>(id)?.map_or(default, |a| a[0]))
    }
    pub(crate) fn bool(&self, id: usize, default: bool) -> R<bool> {
        Ok(self.u8(id, u8::from(default))? != 0)
    }
    pub(crate) fn u16(&self, id: usize, default: u16) -> R<u16> {
        Ok(self.scalar::<2>(id)?.map_or(default, u16::from_le_bytes))
    }
    pub(crate) fn i32(&self, id: usize, default: i32) -> R<i32> {
        Ok(self.scalar::<4>(id)?.map_or(default, i32::from_le_bytes))
    }
    pub(crate) fn u64(&self, id: usize, default: u64) -> R<u64> {
        Ok(self.scalar::<8>(id)?.map_or(default, u64::from_le_bytes))
    }

    /// Where an offset field points.
    fn target(&self, id: usize) -> R<Option<usize>> {
        let Some(p) = self.field(id) else { return Ok(None) };
        let off = u32_at(self.b, p).ok_or("an offset beyond the buffer")? as usize;
        let t = p.checked_add(off).filter(|t| *t < self.b.len());
        t.map(Some).ok_or_else(|| "an offset beyond the buffer".into())
    }

    pub(crate) fn table(&self, id: usize) -> R<Option<Table<'a>>> {
        self.target(id)?.map(|t| Table::at(self.b, t)).transpose()
    }

    /// A vector of `size`-byte elements: the position of its first element and its length.
    pub(crate) fn vector(&self, id: usize, size: usize) -> R<Option<(usize, usize)>> {
        let Some(t) = self.target(id)? else { return Ok(None) };
        let n = u32_at(self.b, t).ok_or("a vector beyond the buffer")? as usize;
        let start = t + 4;
        let fits = n
            .checked_mul(size)
            .is_some_and(|bytes| bytes <= self.b.len() - start.min(self.b.len()));
        if !fits {
            return Err(format!("a vector of {n} elements beyond the buffer"));
        }
        Ok(Some((start, n)))
    }

    pub(crate) fn bytes(&self, id: usize) -> R<Option<&'a [u8]>> {
        Ok(self.vector(id, 1)?.and_then(|(s, n)| self.b.get(s..s + n)))
    }

    pub(crate) fn tables(&self, id: usize) -> R<Vec<Table<'a>>> {
        let Some((s, n)) = self.vector(id, 4)? else { return Ok(Vec::new()) };
        (0..n)
            .map(|i| {
                let p = s + 4 * i;
                let off = u32_at(self.b, p).ok_or("an offset beyond the buffer")? as usize;
                Table::at(self.b, p + off)
            })
            .collect()
    }

    pub(crate) fn f64s(&self, id: usize) -> R<Option<(usize, usize)>> {
        self.vector(id, 8)
    }

    pub(crate) fn buffer(&self) -> &'a [u8] {
        self.b
    }
}

// ---------------------------------------------------------------------------------------------
// FlatBuffers writing (forward, children after their parent, aligned to the size prefix)

/// A value of a field to write.
pub(crate) enum Val<'a> {
    U8(u8),
    U16(u16),
    I32(i32),
    U64(u64),
    Bytes(&'a [u8]),
    Str(&'a [u8]),
    F64s(&'a [f64]),
    U32s(&'a [u32]),
    Table(Obj<'a>),
    Tables(Vec<Obj<'a>>),
}

/// A table to write: its fields by id.
#[derive(Default)]
pub(crate) struct Obj<'a> {
    pub(crate) fields: Vec<(u16, Val<'a>)>,
}

impl<'a> Obj<'a> {
    pub(crate) fn with(mut self, id: u16, v: Val<'a>) -> Self {
        self.fields.push((id, v));
        self
    }
    pub(crate) fn opt_str(self, id: u16, v: Option<&'a [u8]>) -> Self {
        match v {
            Some(s) => self.with(id, Val::Str(s)),
            None => self,
        }
    }
}

/// A size-prefixed FlatBuffers buffer: `root` written after a 4-byte size, alignment relative
/// to the size's first byte.
pub(crate) fn finish(root: &Obj<'_>) -> Vec<u8> {
    let mut b = vec![0u8; 8]; // size prefix, root offset
    let pos = write_obj(&mut b, root);
    let root_off = (pos - 4) as u32;
    b[4..8].copy_from_slice(&root_off.to_le_bytes());
    let size = (b.len() - 4) as u32;
    b[0..4].copy_from_slice(&size.to_le_bytes());
    b
}

fn pad(b: &mut Vec<u8>, align: usize) {
    while !b.len().is_multiple_of(align) {
        b.push(0);
    }
}

fn inline_size(v: &Val<'_>) -> usize {
    match v {
        Val::U8(_) => 1,
        Val::U16(_) => 2,
        Val::U64(_) => 8,
        _ => 4,
    }
}

fn write_obj(b: &mut Vec<u8>, obj: &Obj<'_>) -> usize {
    let slots = obj.fields.iter().map(|(id, _)| *id as usize + 1).max().unwrap_or(0);
    // Inline layout: the soffset, then fields by size (8, 4, 2, 1), each aligned.
    let mut order: Vec<usize> = (0..obj.fields.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(inline_size(&obj.fields[i].1)));
    let has8 = obj.fields.iter().any(|(_, v)| inline_size(v) == 8);
    let mut offs = vec![0usize; obj.fields.len()];
    let mut at: usize = if has8 { 8 } else { 4 };
    for &i in &order {
        let s = inline_size(&obj.fields[i].1);
        at = at.div_ceil(s) * s;
        offs[i] = at;
        at += s;
    }
    let table_len = at;
    // The vtable, then the table (aligned) right after it.
    pad(b, 2);
    let vt = b.len();
    let vt_len = 4 + 2 * slots;
    b.extend((vt_len as u16).to_le_bytes());
    b.extend((table_len as u16).to_le_bytes());
    let mut entries = vec![0u16; slots];
    for (k, (id, _)) in obj.fields.iter().enumerate() {
        entries[*id as usize] = offs[k] as u16;
    }
    for e in entries {
        b.extend(e.to_le_bytes());
    }
    pad(b, if has8 { 8 } else { 4 });
    let pos = b.len();
    b.resize(pos + table_len, 0);
    let soff = (pos - vt) as i32;
    b[pos..pos + 4].copy_from_slice(&soff.to_le_bytes());
    let mut children = Vec::new();
    for (k, (_, v)) in obj.fields.iter().enumerate() {
        let p = pos + offs[k];
        match v {
            Val::U8(x) => b[p] = *x,
            Val::U16(x) => b[p..p + 2].copy_from_slice(&x.to_le_bytes()),
            Val::I32(x) => b[p..p + 4].copy_from_slice(&x.to_le_bytes()),
            Val::U64(x) => b[p..p + 8].copy_from_slice(&x.to_le_bytes()),
            _ => children.push((p, v)),
        }
    }
    for (p, v) in children {
        let target = write_child(b, v);
        let off = (target - p) as u32;
        b[p..p + 4].copy_from_slice(&off.to_le_bytes());
    }
    pos
}

/// Writes a vector's length so that its elements are aligned to `align`; its position.
fn vector_start(b: &mut Vec<u8>, n: usize, align: usize) -> usize {
    pad(b, 4);
    while !(b.len() + 4).is_multiple_of(align) {
        b.push(0);
    }
    let pos = b.len();
    b.extend((n as u32).to_le_bytes());
    pos
}

fn write_child(b: &mut Vec<u8>, v: &Val<'_>) -> usize {
    match v {
        Val::Bytes(s) => {
            let pos = vector_start(b, s.len(), 4);
            b.extend_from_slice(s);
            pos
        }
        Val::Str(s) => {
            let pos = vector_start(b, s.len(), 4);
            b.extend_from_slice(s);
            b.push(0);
            pos
        }
        Val::F64s(s) => {
            let pos = vector_start(b, s.len(), 8);
            b.reserve(8 * s.len());
            for x in *s {
                b.extend(x.to_le_bytes());
            }
            pos
        }
        Val::U32s(s) => {
            let pos = vector_start(b, s.len(), 4);
            for x in *s {
                b.extend(x.to_le_bytes());
            }
            pos
        }
        Val::Table(o) => write_obj(b, o),
        Val::Tables(list) => {
            let pos = vector_start(b, list.len(), 4);
            let slots = b.len();
            b.resize(slots + 4 * list.len(), 0);
            for (i, o) in list.iter().enumerate() {
                let t = write_obj(b, o);
                let p = slots + 4 * i;
                b[p..p + 4].copy_from_slice(&((t - p) as u32).to_le_bytes());
            }
            pos
        }
        Val::U8(_) | Val::U16(_) | Val::I32(_) | Val::U64(_) => b.len(),
    }
}

// ---------------------------------------------------------------------------------------------
// The header

/// A column of the header (or of a feature).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Column {
    pub(crate) name: Vec<u8>,
    pub(crate) kind: u8,
    pub(crate) title: Option<Vec<u8>>,
    pub(crate) description: Option<Vec<u8>>,
    pub(crate) width: i32,
    pub(crate) precision: i32,
    pub(crate) scale: i32,
    pub(crate) nullable: bool,
    pub(crate) unique: bool,
    pub(crate) primary_key: bool,
    pub(crate) metadata: Option<Vec<u8>>,
}

/// The column types (`ColumnType`).
pub(crate) mod column_type {
    pub(crate) const BYTE: u8 = 0;
    pub(crate) const UBYTE: u8 = 1;
    pub(crate) const BOOL: u8 = 2;
    pub(crate) const SHORT: u8 = 3;
    pub(crate) const USHORT: u8 = 4;
    pub(crate) const INT: u8 = 5;
    pub(crate) const UINT: u8 = 6;
    pub(crate) const LONG: u8 = 7;
    pub(crate) const ULONG: u8 = 8;
    pub(crate) const FLOAT: u8 = 9;
    pub(crate) const DOUBLE: u8 = 10;
    pub(crate) const STRING: u8 = 11;
    pub(crate) const JSON: u8 = 12;
    pub(crate) const DATETIME: u8 = 13;
    pub(crate) const BINARY: u8 = 14;
}

impl Column {
    /// A column of a type with the schema's defaults.
    pub(crate) fn new(name: &str, kind: u8) -> Self {
        Self {
            name: name.as_bytes().to_vec(),
            kind,
            title: None,
            description: None,
            width: -1,
            precision: -1,
            scale: -1,
            nullable: true,
            unique: false,
            primary_key: false,
            metadata: None,
        }
    }

    fn read(t: &Table<'_>) -> R<Self> {
        let s = |id| t.bytes(id).map(|o| o.map(<[u8]>::to_vec));
        Ok(Self {
            name: s(0)?.ok_or("a column without a name")?,
            kind: t.u8(1, 0)?,
            title: s(2)?,
            description: s(3)?,
            width: t.i32(4, -1)?,
            precision: t.i32(5, -1)?,
            scale: t.i32(6, -1)?,
            nullable: t.bool(7, true)?,
            unique: t.bool(8, false)?,
            primary_key: t.bool(9, false)?,
            metadata: s(10)?,
        })
    }

    fn obj(&self) -> Obj<'_> {
        Obj::default()
            .with(0, Val::Str(&self.name))
            .with(1, Val::U8(self.kind))
            .opt_str(2, self.title.as_deref())
            .opt_str(3, self.description.as_deref())
            .with(4, Val::I32(self.width))
            .with(5, Val::I32(self.precision))
            .with(6, Val::I32(self.scale))
            .with(7, Val::U8(u8::from(self.nullable)))
            .with(8, Val::U8(u8::from(self.unique)))
            .with(9, Val::U8(u8::from(self.primary_key)))
            .opt_str(10, self.metadata.as_deref())
    }
}

/// The header's `crs`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CrsInfo {
    pub(crate) org: Option<Vec<u8>>,
    pub(crate) code: i32,
    pub(crate) name: Option<Vec<u8>>,
    pub(crate) description: Option<Vec<u8>>,
    pub(crate) wkt: Option<Vec<u8>>,
    pub(crate) code_string: Option<Vec<u8>>,
}

impl CrsInfo {
    /// The `crs` for a target CRS, and a warning if WKT cannot express it.
    pub(crate) fn for_target(target: &Crs) -> (Self, Option<String>) {
        let (wkt, warning) = match target.to_wkt() {
            Ok(w) => (Some(w.into_bytes()), None),
            Err(e) => (None, Some(format!("the header's crs has no WKT: {e}"))),
        };
        let name = Some(target.name().as_bytes().to_vec());
        match target.epsg() {
            Some(code) => (
                Self {
                    org: Some(b"EPSG".to_vec()),
                    code: i32::try_from(code).unwrap_or(0),
                    name,
                    description: None,
                    wkt,
                    code_string: None,
                },
                warning,
            ),
            None => (
                Self {
                    org: None,
                    code: 0,
                    name,
                    description: Some(
                        format!(
                            "{} ({}): a coordinate system without an EPSG code, written by \
                             geounify",
                            target.id(),
                            target.name()
                        )
                        .into_bytes(),
                    ),
                    wkt,
                    code_string: Some(target.id().as_bytes().to_vec()),
                },
                warning,
            ),
        }
    }

    fn read(t: &Table<'_>) -> R<Self> {
        let s = |id| t.bytes(id).map(|o| o.map(<[u8]>::to_vec));
        Ok(Self {
            org: s(0)?,
            code: t.i32(1, 0)?,
            name: s(2)?,
            description: s(3)?,
            wkt: s(4)?,
            code_string: s(5)?,
        })
    }

    fn obj(&self) -> Obj<'_> {
        Obj::default()
            .opt_str(0, self.org.as_deref())
            .with(1, Val::I32(self.code))
            .opt_str(2, self.name.as_deref())
            .opt_str(3, self.description.as_deref())
            .opt_str(4, self.wkt.as_deref())
            .opt_str(5, self.code_string.as_deref())
    }
}

/// The header's fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Header {
    pub(crate) name: Option<Vec<u8>>,
    pub(crate) envelope: Option<Vec<f64>>,
    pub(crate) geometry_type: u8,
    pub(crate) has_z: bool,
    pub(crate) has_m: bool,
    pub(crate) has_t: bool,
    pub(crate) has_tm: bool,
    pub(crate) columns: Vec<Column>,
    pub(crate) features_count: u64,
    pub(crate) index_node_size: u16,
    pub(crate) crs: Option<CrsInfo>,
    pub(crate) title: Option<Vec<u8>>,
    pub(crate) description: Option<Vec<u8>>,
    pub(crate) metadata: Option<Vec<u8>>,
    /// Fields of a newer schema were present (not carried).
    pub(crate) unknown_fields: bool,
}

impl Header {
    /// Reads a header buffer (after its size).
    pub(crate) fn read(b: &[u8]) -> R<Self> {
        let t = Table::root(b)?;
        let s = |id| t.bytes(id).map(|o| o.map(<[u8]>::to_vec));
        let envelope =
            t.f64s(1)?.map(|(at, n)| (0..n).filter_map(|i| f64_at(b, at + 8 * i)).collect());
        let columns = t
            .tables(7)?
            .iter()
            .map(Column::read)
            .collect::<R<Vec<_>>>()
            .map_err(|e| format!("columns: {e}"))?;
        Ok(Self {
            name: s(0)?,
            envelope,
            geometry_type: t.u8(2, 0)?,
            has_z: t.bool(3, false)?,
            has_m: t.bool(4, false)?,
            has_t: t.bool(5, false)?,
            has_tm: t.bool(6, false)?,
            columns,
            features_count: t.u64(8, 0)?,
            index_node_size: t.u16(9, 16)?,
            crs: t.table(10)?.map(|c| CrsInfo::read(&c)).transpose()?,
            title: s(11)?,
            description: s(12)?,
            metadata: s(13)?,
            unknown_fields: t.has_unknown(14),
        })
    }

    /// The header as a size-prefixed buffer (every scalar written, so that `features_count`
    /// and the envelope can be patched in place), and the positions (in that buffer) of the
    /// count and of the envelope's first value.
    pub(crate) fn write(&self) -> (Vec<u8>, usize, Option<usize>) {
        let mut o = Obj::default().opt_str(0, self.name.as_deref());
        if let Some(e) = &self.envelope {
            o = o.with(1, Val::F64s(e));
        }
        o = o
            .with(2, Val::U8(self.geometry_type))
            .with(3, Val::U8(u8::from(self.has_z)))
            .with(4, Val::U8(u8::from(self.has_m)))
            .with(5, Val::U8(u8::from(self.has_t)))
            .with(6, Val::U8(u8::from(self.has_tm)));
        if !self.columns.is_empty() {
            o = o.with(7, Val::Tables(self.columns.iter().map(Column::obj).collect()));
        }
        o = o.with(8, Val::U64(self.features_count)).with(9, Val::U16(self.index_node_size));
        if let Some(c) = &self.crs {
            o = o.with(10, Val::Table(c.obj()));
        }
        o = o
            .opt_str(11, self.title.as_deref())
            .opt_str(12, self.description.as_deref())
            .opt_str(13, self.metadata.as_deref());
        let b = finish(&o);
        let fb = &b[4..];
        let (count, envelope) = match Table::root(fb) {
            Ok(t) => (t.field(8).unwrap_or(0), t.f64s(1).ok().flatten().map(|(at, _)| at)),
            Err(_) => (0, None),
        };
        (b.clone(), count + 4, envelope.map(|e| e + 4))
    }
}

/// The number of nodes of a packed R-tree of `n` items (0 for none), and the level bounds
/// (node index ranges, leaves first, root last).
pub(crate) fn level_bounds(n: u64, node_size: u16) -> (u64, Vec<(u64, u64)>) {
    if n == 0 || node_size < 2 {
        return (0, Vec::new());
    }
    let ns = u64::from(node_size);
    let mut counts = vec![n];
    let mut total = n;
    let mut k = n;
    loop {
        k = k.div_ceil(ns);
        counts.push(k);
        total += k;
        if k == 1 {
            break;
        }
    }
    let mut bounds = Vec::with_capacity(counts.len());
    let mut end = total;
    for c in &counts {
        bounds.push((end - c, end));
        end -= c;
    }
    (total, bounds)
}

/// A node's box and offset.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    pub(crate) min_x: f64,
    pub(crate) min_y: f64,
    pub(crate) max_x: f64,
    pub(crate) max_y: f64,
    pub(crate) offset: u64,
}

impl Node {
    /// The empty box (intersects nothing).
    pub(crate) fn empty(offset: u64) -> Self {
        Self {
            min_x: f64::INFINITY,
            min_y: f64::INFINITY,
            max_x: f64::NEG_INFINITY,
            max_y: f64::NEG_INFINITY,
            offset,
        }
    }

    pub(crate) fn expand(&mut self, o: &Node) {
        self.min_x = self.min_x.min(o.min_x);
        self.min_y = self.min_y.min(o.min_y);
        self.max_x = self.max_x.max(o.max_x);
        self.max_y = self.max_y.max(o.max_y);
    }
}

/// The packed R-tree over `leaves` (in feature order, each with its feature's byte offset), as
/// bytes: root first, leaves last.
pub(crate) fn build_index(leaves: &[Node], node_size: u16) -> Vec<u8> {
    let (total, bounds) = level_bounds(leaves.len() as u64, node_size);
    let total = total as usize;
    let mut nodes = vec![Node::empty(0); total];
    let leaf_start = total - leaves.len();
    nodes[leaf_start..].copy_from_slice(leaves);
    for level in 0..bounds.len().saturating_sub(1) {
        let (mut pos, end) = (bounds[level].0 as usize, bounds[level].1 as usize);
        let mut parent = bounds[level + 1].0 as usize;
        while pos < end {
            let mut node = Node::empty(pos as u64);
            let mut j = 0;
            while j < usize::from(node_size) && pos < end {
                let child = nodes[pos];
                node.expand(&child);
                pos += 1;
                j += 1;
            }
            nodes[parent] = node;
            parent += 1;
        }
    }
    let mut b = Vec::with_capacity(total * NODE_BYTES as usize);
    for n in &nodes {
        for v in [n.min_x, n.min_y, n.max_x, n.max_y] {
            b.extend(v.to_le_bytes());
        }
        b.extend(n.offset.to_le_bytes());
    }
    b
}

// ---------------------------------------------------------------------------------------------
// Reading a file

/// An opened FlatGeobuf input: its header, positioned at the first feature.
pub(crate) struct Input {
    pub(crate) header: Header,
    reader: BufReader<File>,
    /// Bytes left after the current position.
    left: u64,
    /// The file's size.
    size: u64,
    /// Features read so far.
    pub(crate) read: u64,
    /// Byte offset of the next feature in the feature section.
    pub(crate) offset: u64,
    /// Whether the input has an index.
    pub(crate) indexed: bool,
    path: std::path::PathBuf,
}

fn malformed(path: &Path, location: impl Into<String>, message: impl Into<String>) -> ConvertError {
    ConvertError::Malformed {
        path: path.to_path_buf(),
        location: location.into(),
        message: message.into(),
    }
}

impl Input {
    /// Opens `path`: checks the magic bytes, reads the header, skips the index.
    pub(crate) fn open(path: &Path) -> Result<Self, ConvertError> {
        let io = |source| ConvertError::Io { path: path.to_path_buf(), source };
        let file = super::open_regular(path)?;
        let size = file.metadata().map_err(io)?.len();
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut magic = [0u8; 8];
        if size < 12 {
            return Err(malformed(
                path,
                "header",
                format!("{size} bytes: too short for a FlatGeobuf file (magic bytes and header)"),
            ));
        }
        reader.read_exact(&mut magic).map_err(io)?;
        if magic[..7] != MAGIC {
            let what = if magic[..3] == MAGIC[..3] && magic[4..7] == MAGIC[4..7] {
                format!("FlatGeobuf version {} (version 3 is read)", magic[3])
            } else {
                "not a FlatGeobuf file (its first bytes are not fgb\\x03fgb)".to_string()
            };
            return Err(malformed(path, "magic bytes", what));
        }
        let mut len = [0u8; 4];
        reader.read_exact(&mut len).map_err(io)?;
        let header_len = u32::from_le_bytes(len);
        let left = size - 12;
        if header_len > MAX_HEADER_BYTES || u64::from(header_len) > left || header_len < 8 {
            return Err(malformed(
                path,
                "header",
                format!(
                    "a header of {header_len} bytes (the file has {left} after the magic bytes; \
                     at most {MAX_HEADER_BYTES} read)"
                ),
            ));
        }
        let mut hb = vec![0u8; header_len as usize];
        reader.read_exact(&mut hb).map_err(io)?;
        let header = Header::read(&hb).map_err(|m| malformed(path, "header", m))?;
        let mut left = left - u64::from(header_len);
        let indexed = header.index_node_size > 0 && header.features_count > 0;
        if header.index_node_size == 1 {
            return Err(malformed(path, "header", "index node size 1 (at least 2)"));
        }
        if indexed {
            let (nodes, _) = level_bounds(header.features_count, header.index_node_size);
            let bytes = nodes.checked_mul(NODE_BYTES).filter(|b| *b <= left).ok_or_else(|| {
                malformed(
                    path,
                    "index",
                    format!(
                        "the header declares {} features with an index, larger than the {left} \
                         bytes left in the file",
                        header.features_count
                    ),
                )
            })?;
            reader.seek_relative(bytes as i64).map_err(io)?;
            left -= bytes;
        }
        Ok(Self {
            header,
            reader,
            left,
            size,
            read: 0,
            offset: 0,
            indexed,
            path: path.to_path_buf(),
        })
    }

    /// Bytes of the file read so far (header, index and the features given).
    pub(crate) fn position(&self) -> u64 {
        self.size - self.left
    }

    /// The next feature's bytes (the FlatBuffers buffer after its size), appended to `buf`;
    /// `false` at the end. Errors: I/O, a size beyond the file or over the record cap.
    pub(crate) fn next_into(&mut self, buf: &mut Vec<u8>) -> Result<bool, ConvertError> {
        let io = |source| ConvertError::Io { path: self.path.clone(), source };
        if self.left == 0 {
            return Ok(false);
        }
        let n = self.read + 1;
        if self.left < 4 {
            return Err(malformed(
                &self.path,
                format!("feature {n}"),
                format!("{} bytes at the end, too short for a feature size", self.left),
            ));
        }
        let mut len = [0u8; 4];
        self.reader.read_exact(&mut len).map_err(io)?;
        let len = u64::from(u32::from_le_bytes(len));
        self.left -= 4;
        if len > self.left || !(8..=super::MAX_RECORD_BYTES).contains(&len) {
            return Err(malformed(
                &self.path,
                format!("feature {n}"),
                format!(
                    "a feature of {len} bytes (the file has {} left; a feature is at most {} MiB)",
                    self.left,
                    super::MAX_RECORD_BYTES >> 20
                ),
            ));
        }
        let start = buf.len();
        buf.resize(start + len as usize, 0);
        self.reader.read_exact(&mut buf[start..]).map_err(io)?;
        self.left -= len;
        self.read += 1;
        self.offset += 4 + len;
        Ok(true)
    }
}

// ---------------------------------------------------------------------------------------------
// Geometry spans in a feature

/// Where one geometry's coordinates are in its feature buffer.
#[derive(Debug, Clone, Copy)]
struct Span {
    xy: usize,
    n: usize,
    z: Option<usize>,
}

/// The geometry table of a feature buffer, if any.
pub(crate) fn feature_geometry(fb: &[u8]) -> R<Option<Table<'_>>> {
    let f = Table::root(fb)?;
    if f.field(2).is_some() {
        return Err("a feature with its own columns (not supported)".into());
    }
    f.table(0)
}

/// Collects the coordinate spans of `g` and its parts.
fn spans(g: &Table<'_>, depth: usize, out: &mut Vec<Span>) -> R<()> {
    if depth > MAX_DEPTH {
        return Err(format!("geometry parts nested deeper than {MAX_DEPTH}"));
    }
    if let Some((xy, len)) = g.f64s(1)? {
        if len % 2 != 0 {
            return Err(format!("an xy array of {len} values (pairs expected)"));
        }
        let n = len / 2;
        let z = match g.f64s(2)? {
            Some((z, zn)) if zn == n => Some(z),
            Some((_, zn)) => return Err(format!("{zn} z values for {n} points")),
            None => None,
        };
        if let Some((_, mn)) = g.f64s(3)? {
            if mn != n {
                return Err(format!("{mn} m values for {n} points"));
            }
        }
        out.push(Span { xy, n, z });
    }
    for p in g.tables(7)? {
        spans(&p, depth + 1, out)?;
    }
    Ok(())
}

/// A feature held in memory while converted.
struct Rec {
    bytes: Vec<u8>,
    spans: Vec<Span>,
    outcome: Option<Outcome>,
}

enum Outcome {
    Converted { vertices: u64, node: Node },
    Failed(PointError),
    Malformed(String),
}

fn is_empty_pair(x: f64, y: f64) -> bool {
    x.is_nan() && y.is_nan()
}

fn gather(r: &mut Rec, points: &mut Vec<[f64; 3]>) -> bool {
    let found = feature_geometry(&r.bytes).and_then(|g| {
        let mut s = Vec::new();
        if let Some(g) = g {
            spans(&g, 0, &mut s)?;
        }
        Ok(s)
    });
    r.spans = match found {
        Ok(s) => s,
        Err(m) => {
            r.outcome = Some(Outcome::Malformed(m));
            return false;
        }
    };
    let b = &r.bytes;
    let mut any = false;
    for s in &r.spans {
        for i in 0..s.n {
            let x = f64_at(b, s.xy + 16 * i).unwrap_or(f64::NAN);
            let y = f64_at(b, s.xy + 16 * i + 8).unwrap_or(f64::NAN);
            if is_empty_pair(x, y) {
                continue;
            }
            let z = s.z.and_then(|z| f64_at(b, z + 8 * i)).unwrap_or(0.0);
            points.push([x, y, z]);
            any = true;
        }
    }
    if !any {
        r.outcome = Some(Outcome::Converted { vertices: 0, node: Node::empty(0) });
    }
    any
}

fn scatter(r: &mut Rec, converted: Result<&[[f64; 3]], PointError>) {
    let converted = match converted {
        Ok(c) => c,
        Err(e) => {
            r.outcome = Some(Outcome::Failed(e));
            return;
        }
    };
    let mut node = Node::empty(0);
    let mut next = converted.iter();
    let mut vertices = 0;
    let spans = std::mem::take(&mut r.spans);
    for s in &spans {
        for i in 0..s.n {
            let at = s.xy + 16 * i;
            let x = f64_at(&r.bytes, at).unwrap_or(f64::NAN);
            let y = f64_at(&r.bytes, at + 8).unwrap_or(f64::NAN);
            if is_empty_pair(x, y) {
                continue;
            }
            let Some(p) = next.next() else { continue };
            put_f64(&mut r.bytes, at, p[0]);
            put_f64(&mut r.bytes, at + 8, p[1]);
            if let Some(z) = s.z {
                put_f64(&mut r.bytes, z + 8 * i, p[2]);
            }
            node.expand(&Node { min_x: p[0], min_y: p[1], max_x: p[0], max_y: p[1], offset: 0 });
            vertices += 1;
        }
    }
    r.outcome = Some(Outcome::Converted { vertices, node });
}

/// Converts the FlatGeobuf `job.input` into `job.output` (see the module docs).
pub fn convert_file(job: &Job<'_>) -> Result<ConvertReport, ConvertError> {
    let input = job.input;
    let mut src = Input::open(input)?;
    let mut report = ConvertReport::default();
    let io_out = |source| ConvertError::Io { path: job.output.to_path_buf(), source };
    let mut header = src.header.clone();
    if header.unknown_fields {
        report.warnings.push(
            "the header has fields of a newer FlatGeobuf schema; they are not carried".into(),
        );
    }
    let (crs, warning) = CrsInfo::for_target(job.target);
    header.crs = Some(crs);
    report.warnings.extend(warning);
    let planned = header.features_count;
    let indexed = src.indexed;
    if header.envelope.is_some() || indexed {
        header.envelope = Some(vec![f64::NAN; 4]);
    }
    if !indexed {
        // No index in the input (a node size with a count of 0, "unknown", has none either):
        // none in the output, whatever count is written.
        header.index_node_size = 0;
    }
    let (head, count_at, envelope_at) = header.write();
    let (nodes, _) =
        if indexed { level_bounds(planned, header.index_node_size) } else { (0, Vec::new()) };
    let mut out = AtomicFile::create(job.output).map_err(io_out)?;
    let w = out.writer();
    w.write_all(&MAGIC).and_then(|_| w.write_all(&[PATCH])).map_err(io_out)?;
    w.write_all(&head).map_err(io_out)?;
    let index_at = (8 + head.len()) as u64;
    if indexed {
        std::io::copy(&mut std::io::repeat(0).take(nodes * NODE_BYTES), w).map_err(io_out)?;
    }
    let mut tally = Tally::default();
    let mut leaves: Vec<Node> = Vec::new();
    let mut extent = Node::empty(0);
    let mut out_offset = 0u64;
    let mut chunk: Vec<Rec> = Vec::new();
    let mut first = 1u64;
    loop {
        chunk.clear();
        let mut bytes = 0usize;
        let before = src.offset;
        while chunk.len() < CHUNK && bytes < CHUNK_BYTES {
            let mut b = Vec::new();
            if !src.next_into(&mut b)? {
                break;
            }
            bytes += b.len();
            chunk.push(Rec { bytes: b, spans: Vec::new(), outcome: None });
        }
        job.progress.advance(src.offset - before);
        if chunk.is_empty() {
            break;
        }
        super::runner::in_place(job.transformer, job.options.parallel, &mut chunk, gather, scatter);
        for (k, rec) in chunk.iter_mut().enumerate() {
            let location = format!("feature {}", first + k as u64);
            report.features += 1;
            match rec.outcome.take() {
                Some(Outcome::Converted { vertices, node }) => {
                    report.vertices += vertices;
                    report.empty += u64::from(vertices == 0);
                    if tally.failed() {
                        continue;
                    }
                    let w = out.writer();
                    w.write_all(&(rec.bytes.len() as u32).to_le_bytes())
                        .and_then(|_| w.write_all(&rec.bytes))
                        .map_err(io_out)?;
                    extent.expand(&node);
                    if indexed {
                        leaves.try_reserve(1).map_err(|e| {
                            io_out(std::io::Error::new(std::io::ErrorKind::OutOfMemory, e))
                        })?;
                        leaves.push(Node { offset: out_offset, ..node });
                    }
                    out_offset += 4 + rec.bytes.len() as u64;
                }
                Some(Outcome::Failed(e)) => tally.record(
                    &mut report,
                    job.options.skip_invalid,
                    Failure { location, reason: e.to_string() },
                ),
                Some(Outcome::Malformed(m)) => return Err(malformed(input, location, m)),
                None => return Err(malformed(input, location, "not processed")),
            }
        }
        first += chunk.len() as u64;
    }
    if indexed && src.read != planned {
        return Err(malformed(
            input,
            "index",
            format!("the header declares {planned} features but the file has {}", src.read),
        ));
    }
    tally.finish(&mut report, input)?;
    let written = report.written;
    // The count, the envelope, the index.
    let w = out.writer();
    let patch = |w: &mut std::io::BufWriter<File>, at: u64, bytes: &[u8]| {
        w.seek(SeekFrom::Start(at)).and_then(|_| w.write_all(bytes))
    };
    patch(w, 8 + count_at as u64, &written.to_le_bytes()).map_err(io_out)?;
    if let Some(e) = envelope_at {
        let mut b = Vec::with_capacity(32);
        for v in [extent.min_x, extent.min_y, extent.max_x, extent.max_y] {
            b.extend(v.to_le_bytes());
        }
        patch(w, 8 + e as u64, &b).map_err(io_out)?;
    }
    if indexed && written == planned {
        patch(w, index_at, &build_index(&leaves, header.index_node_size)).map_err(io_out)?;
        w.seek(SeekFrom::End(0)).map_err(io_out)?;
        report.outputs.push(out.commit().map_err(io_out)?);
    } else if indexed {
        // Features were left out: the index is smaller; the file is written again with it.
        w.flush().map_err(io_out)?;
        let mut rewritten = AtomicFile::create(job.output).map_err(io_out)?;
        let mut h = header.clone();
        h.features_count = written;
        let (mut head2, _, env2) = h.write();
        if let Some(e) = env2 {
            for (k, v) in
                [extent.min_x, extent.min_y, extent.max_x, extent.max_y].iter().enumerate()
            {
                put_f64(&mut head2, e + 8 * k, *v);
            }
        }
        let w2 = rewritten.writer();
        w2.write_all(&MAGIC).and_then(|_| w2.write_all(&[PATCH])).map_err(io_out)?;
        w2.write_all(&head2).map_err(io_out)?;
        if written > 0 {
            w2.write_all(&build_index(&leaves, h.index_node_size)).map_err(io_out)?;
        }
        let mut from = File::open(out.temp_path()).map_err(io_out)?;
        from.seek(SeekFrom::Start(index_at + nodes * NODE_BYTES)).map_err(io_out)?;
        std::io::copy(&mut from, w2).map_err(io_out)?;
        drop(out);
        report.outputs.push(rewritten.commit().map_err(io_out)?);
    } else {
        w.seek(SeekFrom::End(0)).map_err(io_out)?;
        report.outputs.push(out.commit().map_err(io_out)?);
    }
    Ok(report)
}

/// Up to `max` coordinates `[x, y, z]` from the first features.
pub(crate) fn sample(job: &Job<'_>, max: usize) -> Result<Vec<[f64; 3]>, ConvertError> {
    let mut src = Input::open(job.input)?;
    let mut out = Vec::new();
    let mut b = Vec::new();
    while out.len() < max {
        b.clear();
        if !src.next_into(&mut b)? {
            break;
        }
        let mut rec = Rec { bytes: std::mem::take(&mut b), spans: Vec::new(), outcome: None };
        let mut points = Vec::new();
        gather(&mut rec, &mut points);
        if let Some(Outcome::Malformed(m)) = rec.outcome {
            return Err(malformed(job.input, format!("feature {}", src.read), m));
        }
        out.extend(points.into_iter().take(max - out.len()));
        b = rec.bytes;
    }
    Ok(out)
}

/// The CRS the header declares: its `EPSG` organisation and code, else its WKT, else its
/// `code_string`; nothing without a `crs`.
pub(crate) fn declared(path: &Path) -> Result<Vec<DeclaredCrs>, ConvertError> {
    let src = Input::open(path)?;
    let Some(c) = src.header.crs else { return Ok(Vec::new()) };
    let text = |b: &Option<Vec<u8>>| b.as_deref().map(|b| String::from_utf8_lossy(b).into_owned());
    let org = text(&c.org).unwrap_or_default();
    let origin = "the header's crs";
    if org.eq_ignore_ascii_case("EPSG") && c.code > 0 {
        return Ok(vec![DeclaredCrs::from_epsg(c.code as u32, origin)]);
    }
    if let Some(wkt) = text(&c.wkt).filter(|w| !w.trim().is_empty()) {
        return Ok(vec![DeclaredCrs::from_wkt(wkt.trim(), origin)]);
    }
    if let Some(code) = text(&c.code_string).filter(|s| !s.trim().is_empty()) {
        return Ok(vec![DeclaredCrs::from_name(&code, origin)]);
    }
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_bounds_follow_the_specification() {
        assert_eq!(level_bounds(1, 16), (2, vec![(1, 2), (0, 1)]));
        assert_eq!(level_bounds(4, 2), (7, vec![(3, 7), (1, 3), (0, 1)]));
        assert_eq!(level_bounds(0, 16).0, 0);
    }

    #[test]
    fn a_header_reads_back_as_written() {
        let mut h = Header {
            name: Some("路网".as_bytes().to_vec()),
            envelope: Some(vec![1.0, 2.0, 3.0, 4.0]),
            geometry_type: 2,
            has_z: true,
            columns: vec![Column::new("名称", column_type::STRING), Column::new("n", 7)],
            features_count: 9,
            index_node_size: 16,
            title: Some(b"t".to_vec()),
            metadata: Some(b"{\"a\":1}".to_vec()),
            ..Header::default()
        };
        h.crs = Some(CrsInfo { org: Some(b"EPSG".to_vec()), code: 4547, ..CrsInfo::default() });
        let (b, count_at, env_at) = h.write();
        assert_eq!(u32_at(&b, 0).map(|n| n as usize), Some(b.len() - 4));
        assert_eq!(Header::read(&b[4..]).as_ref(), Ok(&h));
        assert_eq!(get::<8>(&b, count_at).map(u64::from_le_bytes), Some(9));
        assert_eq!(env_at.and_then(|e| f64_at(&b, e)), Some(1.0));
        assert_eq!(env_at.map(|e| e % 8), Some(0), "aligned to the size prefix");
    }
}
