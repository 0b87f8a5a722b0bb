//! The CRS-file schema: reads the document tree into ellipsoids, datums and CRSs and adds them to
//! a registry, refusing anything unknown, missing, mistyped, out of range, clashing or circular
//! with the file, line and field — and never a value.

use super::tree::{Entry, Node, Pos, Value};
use super::CrsFileError;
use super::Definitions;
use crate::crs::{
    AreaOfUse, Crs, CrsKind, HeightMethod, PlanarTransform, Projection, ProjectionSurface,
};
use crate::datum::{Datum, DatumShift};
use crate::ellipsoid::Ellipsoid;
use crate::error::{display_id, RegistryError};
use crate::ops::{AffineParams, GaussKrugerParams, HelmertConvention, HelmertParams};
use crate::ops::{PlanarHelmertParams, Polynomial2, Polynomial2Params};
use crate::transformer::Transformer;
use std::collections::HashMap;

/// Where an error is: the file, and the field path being read.
struct Cx<'a> {
    file: &'a str,
}

impl Cx<'_> {
    fn error(&self, pos: Pos, field: &str, message: impl Into<String>) -> CrsFileError {
        CrsFileError {
            file: self.file.to_string(),
            line: (pos.line > 0).then_some(pos.line),
            field: (!field.is_empty()).then(|| field.to_string()),
            message: message.into(),
        }
    }
}

/// A table being read: its entries, where it is, its field path, and the keys it may have.
struct Fields<'a> {
    cx: &'a Cx<'a>,
    entries: &'a [Entry],
    pos: Pos,
    path: String,
}

/// The type of a value, in words, for messages.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Table(_) => "a table",
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Other(what) => what,
    }
}

impl<'a> Fields<'a> {
    /// `node` as a table with only `allowed` keys.
    fn new(
        cx: &'a Cx<'a>,
        node: &'a Node,
        path: String,
        allowed: &[&str],
    ) -> Result<Self, CrsFileError> {
        let Value::Table(entries) = &node.value else {
            return Err(cx.error(
                node.pos,
                &path,
                format!("must be a table, found {}", type_name(&node.value)),
            ));
        };
        for entry in entries {
            if !allowed.contains(&entry.key.as_str()) {
                return Err(cx.error(
                    entry.pos,
                    &join(&path, &entry.key),
                    format!("unknown key; expected one of: {}", allowed.join(", ")),
                ));
            }
        }
        Ok(Self { cx, entries, pos: node.pos, path })
    }

    fn field(&self, key: &str) -> String {
        join(&self.path, key)
    }

    fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries.iter().find(|e| e.key == key).map(|e| &e.node)
    }

    fn missing(&self, key: &str) -> CrsFileError {
        self.cx.error(self.pos, &self.field(key), "missing required field")
    }

    fn string(&self, key: &str) -> Result<Option<(&'a str, Pos)>, CrsFileError> {
        match self.get(key) {
            None => Ok(None),
            Some(Node { value: Value::String(s), pos }) => Ok(Some((s.as_str(), *pos))),
            Some(node) => Err(self.cx.error(
                node.pos,
                &self.field(key),
                format!("must be a string, found {}", type_name(&node.value)),
            )),
        }
    }

    fn required_string(&self, key: &str) -> Result<(&'a str, Pos), CrsFileError> {
        self.string(key)?.ok_or_else(|| self.missing(key))
    }

    /// An optional number that must satisfy `valid` (described by `range`).
    fn number(
        &self,
        key: &str,
        valid: impl Fn(f64) -> bool,
        range: &str,
    ) -> Result<Option<f64>, CrsFileError> {
        match self.get(key) {
            None => Ok(None),
            Some(Node { value: Value::Number(v), pos }) => {
                if v.is_finite() && valid(*v) {
                    Ok(Some(*v))
                } else {
                    Err(self.cx.error(*pos, &self.field(key), format!("out of range: {range}")))
                }
            }
            Some(node) => Err(self.cx.error(
                node.pos,
                &self.field(key),
                format!("must be a number, found {}", type_name(&node.value)),
            )),
        }
    }

    fn required_number(
        &self,
        key: &str,
        valid: impl Fn(f64) -> bool,
        range: &str,
    ) -> Result<f64, CrsFileError> {
        self.number(key, valid, range)?.ok_or_else(|| self.missing(key))
    }

    /// An optional string that must be one of `choices`.
    fn choice(
        &self,
        key: &str,
        choices: &[&'static str],
    ) -> Result<Option<(&'static str, Pos)>, CrsFileError> {
        match self.string(key)? {
            None => Ok(None),
            Some((s, pos)) => match choices.iter().find(|c| c.eq_ignore_ascii_case(s)) {
                Some(c) => Ok(Some((c, pos))),
                None => Err(self.cx.error(
                    pos,
                    &self.field(key),
                    format!("unknown value; expected one of: {}", choices.join(", ")),
                )),
            },
        }
    }

    fn table(&self, key: &str, allowed: &[&str]) -> Result<Option<Fields<'a>>, CrsFileError> {
        self.get(key).map(|node| Fields::new(self.cx, node, self.field(key), allowed)).transpose()
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The entries of the top-level array `key` (`[[key]]` in TOML), if present.
fn array<'a>(cx: &Cx<'_>, root: &'a [Entry], key: &str) -> Result<&'a [Node], CrsFileError> {
    match root.iter().find(|e| e.key == key) {
        None => Ok(&[]),
        Some(Entry { node: Node { value: Value::Array(items), .. }, .. }) => Ok(items),
        Some(entry) => Err(cx.error(
            entry.pos,
            key,
            format!(
                "must be an array of tables ([[{key}]] in TOML), found {}",
                type_name(&entry.node.value)
            ),
        )),
    }
}

/// An entry's field path: `crs[city:grid]` when it has a usable id, else `crs[#3]` (1-based).
fn entry_path(kind: &str, index: usize, node: &Node) -> String {
    if let Value::Table(entries) = &node.value {
        if let Some(Entry { node: Node { value: Value::String(id), .. }, .. }) =
            entries.iter().find(|e| e.key == "id")
        {
            if valid_id(id) {
                return format!("{kind}[{}]", display_id(id));
            }
        }
    }
    format!("{kind}[#{}]", index + 1)
}

/// Ids: non-empty, no surrounding whitespace, no control characters.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.trim() == id && !id.chars().any(char::is_control)
}

fn id_of<'a>(fields: &Fields<'a>) -> Result<(&'a str, Pos), CrsFileError> {
    let (id, pos) = fields.required_string("id")?;
    if valid_id(id) {
        Ok((id, pos))
    } else {
        Err(fields.cx.error(
            pos,
            &fields.field("id"),
            "must be non-empty, without surrounding spaces or control characters",
        ))
    }
}

fn clash(cx: &Cx<'_>, pos: Pos, path: &str, error: RegistryError) -> CrsFileError {
    cx.error(pos, &join(path, "id"), error.to_string())
}

/// Reads the document `root` and adds its definitions to `registry` (the caller discards the
/// registry on error, so that a file is loaded whole or not at all).
pub(crate) fn load<D: Definitions>(
    registry: &mut D,
    file: &str,
    root: &Node,
) -> Result<(), CrsFileError> {
    let cx = Cx { file };
    let top = Fields::new(&cx, root, String::new(), &["ellipsoid", "datum", "crs"])?;
    for (i, node) in array(&cx, top.entries, "ellipsoid")?.iter().enumerate() {
        let path = entry_path("ellipsoid", i, node);
        let f = Fields::new(&cx, node, path.clone(), &["id", "name", "a", "rf"])?;
        let (id, id_pos) = id_of(&f)?;
        let name = f.string("name")?.map_or(id, |(n, _)| n);
        let a = f.required_number(
            "a",
            |v| (6.3e6..=6.4e6).contains(&v),
            "an earth ellipsoid's semi-major axis in metres, 6 300 000 to 6 400 000",
        )?;
        let rf = f.required_number(
            "rf",
            |v| (250.0..=350.0).contains(&v),
            "an earth ellipsoid's inverse flattening, 250 to 350",
        )?;
        let ellipsoid =
            Ellipsoid::custom(name, a, rf).map_err(|e| cx.error(f.pos, &path, e.to_string()))?;
        registry.add_ellipsoid(id, ellipsoid).map_err(|e| clash(&cx, id_pos, &path, e))?;
    }
    for (i, node) in array(&cx, top.entries, "datum")?.iter().enumerate() {
        let path = entry_path("datum", i, node);
        let datum = read_datum(&cx, registry, node, &path)?;
        let id_pos = Fields::new(&cx, node, path.clone(), DATUM_KEYS)?.required_string("id")?.1;
        registry.add_datum(datum).map_err(|e| clash(&cx, id_pos, &path, e))?;
    }
    load_crss(&cx, registry, array(&cx, top.entries, "crs")?)
}

const DATUM_KEYS: &[&str] = &["id", "name", "ellipsoid", "to_cgcs2000"];

fn read_datum<D: Definitions>(
    cx: &Cx<'_>,
    registry: &D,
    node: &Node,
    path: &str,
) -> Result<Datum, CrsFileError> {
    let f = Fields::new(cx, node, path.to_string(), DATUM_KEYS)?;
    let (id, _) = id_of(&f)?;
    let name = f.string("name")?.map_or(id, |(n, _)| n);
    let (ellipsoid_id, ellipsoid_pos) = f.required_string("ellipsoid")?;
    let ellipsoid = registry.ellipsoid(ellipsoid_id).ok_or_else(|| {
        cx.error(
            ellipsoid_pos,
            &f.field("ellipsoid"),
            format!(
                "unknown ellipsoid '{}' (built-in: grs80, cgcs2000, wgs84, krassovsky, \
                 iag1975; or an [[ellipsoid]] id defined earlier)",
                display_id(ellipsoid_id)
            ),
        )
    })?;
    let keys = ["method", "convention", "tx", "ty", "tz", "rx", "ry", "rz", "s"];
    let shift = match f.table("to_cgcs2000", &keys)? {
        None => DatumShift::Unknown,
        Some(shift) => read_shift(&shift)?,
    };
    Ok(Datum::new(id, name, ellipsoid, shift))
}

const TRANSLATION: &str = "a translation in metres within ±10 000";
const ROTATION: &str = "a rotation in arc-seconds within ±3600";
const SCALE: &str = "a scale difference in ppm within ±10 000";

fn read_shift(f: &Fields<'_>) -> Result<DatumShift, CrsFileError> {
    let (method, _) =
        f.choice("method", &["helmert7", "helmert3"])?.ok_or_else(|| f.missing("method"))?;
    let t = |key: &str| f.required_number(key, |v| v.abs() <= 1e4, TRANSLATION);
    let (tx, ty, tz) = (t("tx")?, t("ty")?, t("tz")?);
    if method == "helmert3" {
        for key in ["convention", "rx", "ry", "rz", "s"] {
            if let Some(node) = f.get(key) {
                return Err(f.cx.error(
                    node.pos,
                    &f.field(key),
                    "not a parameter of helmert3 (tx, ty, tz); use helmert7 for rotations and \
                     scale",
                ));
            }
        }
        return Ok(DatumShift::Helmert(HelmertParams::translation(tx, ty, tz)));
    }
    let (convention, _) =
        f.choice("convention", &["position_vector", "coordinate_frame"])?.ok_or_else(|| {
            f.cx.error(
                f.pos,
                &f.field("convention"),
                "missing required field: helmert7 needs its rotation convention stated \
                 (position_vector or coordinate_frame; the two differ by the sign of the \
                 rotations)",
            )
        })?;
    let r = |key: &str| f.required_number(key, |v| v.abs() <= 3600.0, ROTATION);
    let (rx, ry, rz) = (r("rx")?, r("ry")?, r("rz")?);
    let s = f.required_number("s", |v| v.abs() <= 1e4, SCALE)?;
    let convention = if convention == "position_vector" {
        HelmertConvention::PositionVector
    } else {
        HelmertConvention::CoordinateFrame
    };
    Ok(DatumShift::Helmert(HelmertParams { tx, ty, tz, rx, ry, rz, s, convention }))
}

const CRS_KEYS: &[&str] =
    &["id", "name", "datum", "projection", "base", "planar", "area", "dimension"];

/// The most local grids a CRS may stack on its projected CRS (`base` of a `base` of ...).
/// Real cities use one to three; every CRS holds a copy of its whole base chain
/// (`CrsKind::Local` boxes its base), so the cap also bounds the memory a file takes to a
/// constant factor of its size (at most 9 CRS copies per entry; a file of 20,000 entries each
/// one level below the previous would otherwise hold 2·10⁸ copies) and keeps every walk over
/// the chain shallow (no stack overflow).
pub(crate) const MAX_BASE_DEPTH: usize = 8;

/// How many local grids `crs` stacks on its projected CRS (0 for a projected CRS).
fn base_depth(crs: &Crs) -> usize {
    let mut depth = 0;
    let mut crs = crs;
    while let CrsKind::Local { base, .. } = crs.kind() {
        depth += 1;
        crs = base;
    }
    depth
}

/// The CRSs of the file, each after its `base`, whatever the order they are written in.
/// Linear in the number of entries: ids are found through a hash map, never by scanning.
fn load_crss<D: Definitions>(
    cx: &Cx<'_>,
    registry: &mut D,
    nodes: &[Node],
) -> Result<(), CrsFileError> {
    // Ids first, to resolve `base` references to entries of this file in any order.
    let mut entries: Vec<(Fields<'_>, &str, Pos)> = Vec::with_capacity(nodes.len());
    let mut by_id: HashMap<String, usize> = HashMap::with_capacity(nodes.len());
    for (i, node) in nodes.iter().enumerate() {
        let path = entry_path("crs", i, node);
        let f = Fields::new(cx, node, path.clone(), CRS_KEYS)?;
        let (id, id_pos) = id_of(&f)?;
        if let Some(&earlier) = by_id.get(&id.to_ascii_lowercase()) {
            return Err(cx.error(
                id_pos,
                &join(&path, "id"),
                format!(
                    "CRS id '{}' is defined twice in this file (first on line {})",
                    display_id(id),
                    entries[earlier].2.line
                ),
            ));
        }
        by_id.insert(id.to_ascii_lowercase(), entries.len());
        entries.push((f, id, id_pos));
    }
    let mut done = vec![false; entries.len()];
    // Where each entry is on the chain being walked (`usize::MAX`: not on it).
    let mut on_chain = vec![usize::MAX; entries.len()];
    for start in 0..entries.len() {
        // Walk down the base chain, then add from the bottom up.
        let mut chain = vec![start];
        on_chain[start] = 0;
        let walked = loop {
            let (f, _, _) = &entries[*chain.last().unwrap_or(&start)];
            let Some((base, base_pos)) = f.string("base")? else { break Ok(()) };
            let Some(&next) = by_id.get(&base.trim().to_ascii_lowercase()) else {
                break Ok(()); // a CRS of the registry, or unknown: reported when the CRS is built
            };
            if done[next] {
                break Ok(());
            }
            if on_chain[next] != usize::MAX {
                let at = on_chain[next];
                let mut ids: Vec<String> =
                    chain[at..].iter().map(|&c| display_id(entries[c].1)).collect();
                ids.push(display_id(entries[next].1));
                if ids.len() > 8 {
                    ids.drain(4..ids.len() - 4);
                    ids.insert(4, "…".to_string());
                }
                break Err(cx.error(
                    base_pos,
                    &f.field("base"),
                    format!("cycle between base entries: {}", ids.join(" → ")),
                ));
            }
            on_chain[next] = chain.len();
            chain.push(next);
        };
        for &index in &chain {
            on_chain[index] = usize::MAX;
        }
        walked?;
        for &index in chain.iter().rev() {
            if done[index] {
                continue;
            }
            let (f, _, id_pos) = &entries[index];
            let crs = read_crs(registry, f)?;
            registry.add_crs(crs).map_err(|e| clash(cx, *id_pos, &f.path, e))?;
            done[index] = true;
        }
    }
    Ok(())
}

/// A CRS entry. `dimension = 3` makes it a 3D CRS (its heights ellipsoidal, converted with
/// the point; see [`Crs::with_ellipsoidal_height`]); 2 (the default) a 2D CRS (heights are
/// elevations, copied unchanged between 2D CRSs).
fn read_crs<D: Definitions>(registry: &D, f: &Fields<'_>) -> Result<Crs, CrsFileError> {
    let dimension = f.number("dimension", |v| v == 2.0 || v == 3.0, "2 or 3")?;
    let crs = read_crs_2d(registry, f)?;
    if dimension != Some(3.0) {
        return Ok(crs);
    }
    let (id, name) = (crs.id().to_string(), crs.name().to_string());
    let pos = f.get("dimension").map_or(f.pos, |n| n.pos);
    crs.with_ellipsoidal_height(&id, &name, None)
        .map_err(|e| f.cx.error(pos, &f.field("dimension"), e.to_string()))
}

fn read_crs_2d<D: Definitions>(registry: &D, f: &Fields<'_>) -> Result<Crs, CrsFileError> {
    let cx = f.cx;
    let (id, _) = id_of(f)?;
    let name = f.string("name")?.map_or(id, |(n, _)| n);
    let area = read_area(f)?;
    let invalid = |e: crate::error::DefinitionError| cx.error(f.pos, &f.path, e.to_string());
    if let Some((base_id, base_pos)) = f.string("base")? {
        for key in ["datum", "projection"] {
            if let Some(node) = f.get(key) {
                return Err(cx.error(
                    node.pos,
                    &f.field(key),
                    "a local grid (with `base`) takes its base's datum and projection; remove \
                     this field",
                ));
            }
        }
        let base = registry.lookup(base_id).map_err(|_| {
            cx.error(base_pos, &f.field("base"), format!("unknown CRS '{}'", display_id(base_id)))
        })?;
        if base.is_angular() {
            return Err(cx.error(
                base_pos,
                &f.field("base"),
                format!(
                    "'{}' is not a projected CRS; a local grid's base must be one",
                    display_id(base_id)
                ),
            ));
        }
        if base_depth(&base) >= MAX_BASE_DEPTH {
            return Err(cx.error(
                base_pos,
                &f.field("base"),
                format!(
                    "more than {MAX_BASE_DEPTH} local grids stacked on one projected CRS (each \
                     `base` here is itself a local grid); a real grid needs a few: define the \
                     deep ones on a shallower base"
                ),
            ));
        }
        let planar = read_planar(f)?.ok_or_else(|| f.missing("planar"))?;
        if let (PlanarTransform::Polynomial2(params), Some(area)) = (&planar, &area) {
            check_poly2_area(f, &base, params, area)?;
        }
        let datum = base.datum().clone();
        let kind = CrsKind::Local { base: Box::new(base), planar };
        return Crs::new(id, name, datum, kind, area, None).map_err(invalid);
    }
    if let Some(node) = f.get("planar") {
        return Err(cx.error(
            node.pos,
            &f.field("planar"),
            "a planar transformation needs a `base` CRS",
        ));
    }
    let (datum_id, datum_pos) = f.required_string("datum")?;
    let datum = registry.datum(datum_id).ok_or_else(|| {
        cx.error(
            datum_pos,
            &f.field("datum"),
            format!(
                "unknown datum '{}' (built-in: CGCS2000, WGS84, BJ54, XIAN80; or a [[datum]] \
                 id)",
                display_id(datum_id)
            ),
        )
    })?;
    let kind = match read_projection(f, &datum)? {
        None => CrsKind::Geographic,
        Some(projection) => CrsKind::Projected(projection),
    };
    Crs::new(id, name, datum, kind, area, None).map_err(invalid)
}

/// Refuses a poly2 grid that folds (or nearly) inside its CRS's area of use: the area's
/// outline (64 points per side, degrees on the base's datum) is projected into the base CRS,
/// and the map's Jacobian determinant checked over the bounding rectangle of the image
/// ([`Polynomial2::fold_free_over`]; conservative: the rectangle covers the area).
fn check_poly2_area(
    f: &Fields<'_>,
    base: &Crs,
    params: &Polynomial2Params,
    area: &AreaOfUse,
) -> Result<(), CrsFileError> {
    let pos = f.get("planar").map_or(f.pos, |n| n.pos);
    let refuse = |message: &str| f.cx.error(pos, &f.field("planar"), message);
    // The parameters were checked by `read_planar` and are checked again when the CRS is built.
    let Ok(poly) = Polynomial2::new(params.clone()) else { return Ok(()) };
    let geographic =
        Crs::new("geographic", "", base.datum().clone(), CrsKind::Geographic, None, None);
    // Plane positions only: the kind of height does not matter (the base may be 3D).
    let to_base = geographic
        .ok()
        .and_then(|g| Transformer::with_heights(&g, base, crate::Heights::Ellipsoidal).ok());
    let Some(to_base) = to_base else {
        return Err(refuse("cannot project the area of use into the base CRS to check the grid"));
    };
    let (mut e, mut n) = ((f64::INFINITY, f64::NEG_INFINITY), (f64::INFINITY, f64::NEG_INFINITY));
    const STEPS: u32 = 64;
    for i in 0..=STEPS {
        let t = f64::from(i) / f64::from(STEPS);
        let lon = area.west + (area.east - area.west) * t;
        let lat = area.south + (area.north - area.south) * t;
        for (x, y) in [(lon, area.south), (lon, area.north), (area.west, lat), (area.east, lat)] {
            let Ok((x, y)) = to_base.transform_xy(x, y) else {
                return Err(refuse(
                    "the area of use reaches beyond the base CRS's domain, where the grid cannot \
                     be checked; give the area the grid is used in",
                ));
            };
            e = (e.0.min(x), e.1.max(x));
            n = (n.0.min(y), n.1.max(y));
        }
    }
    if poly.fold_free_over(e, n) {
        Ok(())
    } else {
        Err(refuse(
            "the poly2 map folds inside the CRS's area of use: its Jacobian determinant changes \
             sign, or falls below a tenth of its value at the origin (e0, n0), there, so points \
             of the area would have two preimages or none; check the quadratic coefficients \
             (units: per metre), their axis order, and the area",
        ))
    }
}

fn read_area(f: &Fields<'_>) -> Result<Option<AreaOfUse>, CrsFileError> {
    let Some(a) = f.table("area", &["name", "west", "south", "east", "north"])? else {
        return Ok(None);
    };
    let lon = |key: &str| a.required_number(key, |v| v.abs() <= 180.0, "degrees within ±180");
    let lat = |key: &str| a.required_number(key, |v| v.abs() <= 90.0, "degrees within ±90");
    let (west, south, east, north) = (lon("west")?, lat("south")?, lon("east")?, lat("north")?);
    if south > north {
        return Err(a.cx.error(a.pos, &a.path, "south must not be north of north"));
    }
    let name = a.string("name")?.map_or_else(String::new, |(n, _)| n.to_string());
    Ok(Some(AreaOfUse { name, west, south, east, north }))
}

fn read_projection(f: &Fields<'_>, datum: &Datum) -> Result<Option<Projection>, CrsFileError> {
    let keys = [
        "method",
        "lon0",
        "lat0",
        "k0",
        "x0",
        "y0",
        "height",
        "height_method",
        "radius",
        "lat_ref",
    ];
    let Some(p) = f.table("projection", &keys)? else { return Ok(None) };
    p.choice("method", &["gauss-kruger", "transverse-mercator"])?
        .ok_or_else(|| p.missing("method"))?;
    let lon0 = p.required_number("lon0", |v| v.abs() <= 180.0, "degrees within ±180")?;
    let lat0 = p.number("lat0", |v| v.abs() <= 90.0, "degrees within ±90")?.unwrap_or(0.0);
    let k0 = p.number("k0", |v| v > 0.9 && v <= 1.1, "a scale factor above 0.9, at most 1.1")?;
    let offset = "metres within ±100 000 000";
    let x0 = p.number("x0", |v| v.abs() <= 1e8, offset)?.unwrap_or(500_000.0);
    let y0 = p.number("y0", |v| v.abs() <= 1e8, offset)?.unwrap_or(0.0);
    let params = GaussKrugerParams { lon0, lat0, k0: k0.unwrap_or(1.0), x0, y0 };
    let height =
        p.number("height", |v| (-1000.0..=10_000.0).contains(&v), "metres, -1000 to 10 000")?;
    let method = p.choice("height_method", &["scale_factor", "ellipsoid_expansion"])?;
    let Some(height) = height else {
        for key in ["height_method", "radius", "lat_ref"] {
            if let Some(node) = p.get(key) {
                return Err(p.cx.error(
                    node.pos,
                    &p.field(key),
                    "only meaningful with a projection-surface `height`",
                ));
            }
        }
        return Ok(Some(Projection::GaussKruger(params)));
    };
    let (method, _) = method.ok_or_else(|| {
        p.cx.error(
            p.pos,
            &p.field("height_method"),
            "missing required field: a projection-surface height needs its method stated \
             (scale_factor or ellipsoid_expansion; they differ by decimetres)",
        )
    })?;
    let radius =
        p.number("radius", |v| (6.0e6..=6.5e6).contains(&v), "metres, 6 000 000 to 6 500 000")?;
    let lat_ref = p.number("lat_ref", |v| v.abs() <= 90.0, "degrees within ±90")?;
    let method = if method == "scale_factor" {
        let radius =
            match (radius, lat_ref) {
                (Some(r), None) => r,
                (None, Some(lat)) => datum.ellipsoid().gaussian_mean_radius(lat.to_radians()),
                _ => return Err(p.cx.error(
                    p.pos,
                    &p.path,
                    "scale_factor needs exactly one of `radius` (metres) or `lat_ref` (degrees: \
                     R is then the Gaussian mean radius √(M·N) of the datum's ellipsoid there)",
                )),
            };
        HeightMethod::ScaleFactor { radius }
    } else {
        if let Some(node) = p.get("radius") {
            return Err(p.cx.error(
                node.pos,
                &p.field("radius"),
                "not used by ellipsoid_expansion (a' = a + height / W(lat_ref), same flattening)",
            ));
        }
        let lat_ref = lat_ref.ok_or_else(|| {
            p.cx.error(
                p.pos,
                &p.field("lat_ref"),
                "missing required field: ellipsoid_expansion needs the reference latitude where \
                 the expanded ellipsoid lies `height` above the datum's",
            )
        })?;
        HeightMethod::EllipsoidExpansion { lat_ref }
    };
    Ok(Some(Projection::GaussKrugerSurface(params, ProjectionSurface { height, method })))
}

fn read_planar(f: &Fields<'_>) -> Result<Option<PlanarTransform>, CrsFileError> {
    let keys = [
        "method",
        "axis_order",
        "dx",
        "dy",
        "theta",
        "s",
        "a0",
        "a1",
        "a2",
        "b0",
        "b1",
        "b2",
        "e0",
        "n0",
        "a",
        "b",
    ];
    let Some(p) = f.table("planar", &keys)? else { return Ok(None) };
    let (method, _) = p
        .choice("method", &["helmert4", "affine6", "poly2"])?
        .ok_or_else(|| p.missing("method"))?;
    let north_east =
        matches!(p.choice("axis_order", &["east_north", "north_east"])?, Some(("north_east", _)));
    let offset =
        |key: &str| p.required_number(key, |v| v.abs() <= 1e8, "metres within ±100 000 000");
    let unexpected = |allowed: &[&str]| {
        for key in keys.iter().skip(2) {
            if !allowed.contains(key) {
                if let Some(node) = p.get(key) {
                    return Err(p.cx.error(
                        node.pos,
                        &p.field(key),
                        format!("not a parameter of {method} ({})", allowed.join(", ")),
                    ));
                }
            }
        }
        Ok(())
    };
    if method == "helmert4" {
        unexpected(&["dx", "dy", "theta", "s"])?;
        let (dx, dy) = (offset("dx")?, offset("dy")?);
        let theta = p.required_number(
            "theta",
            |v| v.abs() <= 1_296_000.0,
            "arc-seconds within one turn (±1 296 000)",
        )?;
        let s = p.required_number(
            "s",
            |v| v.abs() <= 1e5,
            "a scale difference in ppm within ±100 000",
        )?;
        let params = if north_east {
            PlanarHelmertParams::from_north_east(dx, dy, theta, s)
        } else {
            PlanarHelmertParams { dx, dy, theta, s }
        };
        return Ok(Some(PlanarTransform::Helmert4(params)));
    }
    if method == "poly2" {
        unexpected(&["e0", "n0", "a", "b"])?;
        let (e0, n0) = (offset("e0")?, offset("n0")?);
        let (a, b) = (poly2_coefficients(&p, "a")?, poly2_coefficients(&p, "b")?);
        let params = if north_east {
            // a, b are X' (north) and Y' (east) coefficients in x = N − n0, y = E − e0.
            Polynomial2Params::from_north_east(n0, e0, a, b)
        } else {
            Polynomial2Params { e0, n0, a, b }
        };
        return Ok(Some(PlanarTransform::Polynomial2(params)));
    }
    unexpected(&["a0", "a1", "a2", "b0", "b1", "b2"])?;
    let coefficient =
        |key: &str| p.required_number(key, |v| v.abs() <= 10.0, "a coefficient within ±10");
    let (a0, b0) = (offset("a0")?, offset("b0")?);
    let (a1, a2, b1, b2) =
        (coefficient("a1")?, coefficient("a2")?, coefficient("b1")?, coefficient("b2")?);
    let params = if north_east {
        AffineParams::from_north_east(a0, a1, a2, b0, b1, b2)
    } else {
        AffineParams { a0, a1, a2, b0, b1, b2 }
    };
    Ok(Some(PlanarTransform::Affine6(params)))
}

/// The required array `key` of a poly2 table: 6 finite numbers, the constant term in metres
/// within ±10⁸, the linear coefficients within ±10, the quadratic ones within ±10⁻³ per metre.
/// Errors name the element (`crs[id].planar.a[3]`) and its line, never its value.
fn poly2_coefficients(p: &Fields<'_>, key: &str) -> Result<[f64; 6], CrsFileError> {
    let node = p.get(key).ok_or_else(|| p.missing(key))?;
    let Value::Array(items) = &node.value else {
        return Err(p.cx.error(
            node.pos,
            &p.field(key),
            format!("must be an array of 6 numbers, found {}", type_name(&node.value)),
        ));
    };
    if items.len() != 6 {
        return Err(p.cx.error(
            node.pos,
            &p.field(key),
            format!("must be an array of 6 numbers, found {} elements", items.len()),
        ));
    }
    let mut out = [0.0; 6];
    for (i, (item, slot)) in items.iter().zip(&mut out).enumerate() {
        let field = format!("{}[{i}]", p.field(key));
        let (limit, range) = match i {
            0 => (1e8, "metres within ±100 000 000"),
            1 | 2 => (10.0, "a coefficient within ±10"),
            _ => (
                1e-3,
                "a quadratic coefficient within ±0.001 per metre (a larger one is a unit mistake)",
            ),
        };
        match &item.value {
            Value::Number(v) if v.is_finite() && v.abs() <= limit => *slot = *v,
            Value::Number(_) => {
                return Err(p.cx.error(item.pos, &field, format!("out of range: {range}")))
            }
            other => {
                return Err(p.cx.error(
                    item.pos,
                    &field,
                    format!("must be a number, found {}", type_name(other)),
                ))
            }
        }
    }
    Ok(out)
}
