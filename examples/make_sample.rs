//! Writes the sample city exchange in `data/sample/` (see `data/sample/README.md`).
//!
//! The geometry is made up in the agreed CRS, CGCS2000 / 3-degree Gauss-Kruger CM 117E
//! (EPSG:4548, metres, easting then northing): a street grid of 6 roads around 116.40E 39.90N,
//! 32 parcel centroids in its 4 blocks and 15 points of interest. Every coordinate of that truth
//! is a whole number of millimetres, and it is written to `truth_epsg4548.geojson`. Each dataset
//! is then the truth converted by geounify *into* the system its (fictional) producer uses:
//!
//! - `parcels_old_grid.csv`: parcel centroids in the city's old grid `city:old-grid`, GBK, to
//!   1 mm;
//! - `roads_bj54.shp/.shx/.dbf/.cpg`: road centre lines in `city:bj54-gk117`, a GBK `.dbf`;
//! - `poi_gcj02.geojson`: points of interest in GCJ-02, degrees to 8 decimals (about 1 mm).
//!
//! The output is deterministic (fixed dates, fixed order, fixed number formats): running it again
//! rewrites the same bytes. `cargo run --example make_sample --features formats`.

use geounify::{Registry, Transformer};
use shapefile::{Point, Polyline, ShapeWriter};
use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The grid's centre in EPSG:4548 (about 116.4001E 39.9000N), metres.
const E0: f64 = 448_700.0;
/// The grid's centre in EPSG:4548, northing, metres.
const N0: f64 = 4_418_600.0;

/// A road: name, class, carriageway width (m), centre line in EPSG:4548 (easting, northing).
struct Road {
    name: &'static str,
    class: &'static str,
    width_m: u32,
    line: Vec<[f64; 2]>,
}

/// A point feature: id, name, kind (use of a parcel, category of a POI), position in EPSG:4548.
struct Site {
    id: String,
    name: String,
    kind: &'static str,
    at: [f64; 2],
}

/// Three east-west roads 250 m apart (vertices every 100 m) and three north-south roads 300 m
/// apart (a vertex at each crossing and half-way between).
fn roads() -> Vec<Road> {
    let mut v = Vec::new();
    for (dy, name, class, width_m) in [
        (-250.0, "文昌路", "次干路", 24),
        (0.0, "和平大街", "主干路", 40),
        (250.0, "东华路", "次干路", 24),
    ] {
        let line = (-4..=4).map(|i| [E0 + 100.0 * f64::from(i), N0 + dy]).collect();
        v.push(Road { name, class, width_m, line });
    }
    for (dx, name, class, width_m) in [
        (-300.0, "建设路", "支路", 16),
        (0.0, "光明路", "主干路", 36),
        (300.0, "育才路", "支路", 16),
    ] {
        let stations = [-350.0, -250.0, -150.0, 0.0, 150.0, 250.0, 350.0];
        let line = stations.iter().map(|dy| [E0 + dx, N0 + dy]).collect();
        v.push(Road { name, class, width_m, line });
    }
    v
}

/// Eight parcels (4 × 2, 65 m × 105 m, 20 m back from the roads) in each of the 4 blocks.
fn parcels() -> Vec<Site> {
    let uses = ["住宅", "商业", "办公", "教育", "绿地", "医疗", "住宅", "商业"];
    let mut v = Vec::new();
    for (b, (bx, by)) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)].into_iter().enumerate() {
        let (ox, oy) = (E0 - 300.0 + 300.0 * bx, N0 - 250.0 + 250.0 * by);
        let block = ["A", "B", "C", "D"][b];
        for j in 0..2 {
            for i in 0..4 {
                let k = 4 * j + i;
                v.push(Site {
                    id: format!("P{:02}", 8 * b + k + 1),
                    name: format!("{block}区{:02}号地块", k + 1),
                    kind: uses[(k + 3 * b) % uses.len()],
                    at: [ox + 20.0 + 65.0 * i as f64 + 32.5, oy + 20.0 + 105.0 * j as f64 + 52.5],
                });
            }
        }
    }
    v
}

/// Fifteen points of interest, offsets from the grid's centre in metres.
fn pois() -> Vec<Site> {
    let list: [(&str, &str, f64, f64); 15] = [
        ("和平大街地铁站", "交通", 14.0, 12.0),
        ("光明小学", "教育", -150.0, 120.0),
        ("市第二人民医院", "医疗", 160.0, 140.0),
        ("建设路邮局", "邮政", -288.0, -60.0),
        ("中心公园", "公园", -150.0, -125.0),
        ("工商银行文昌路支行", "银行", 90.0, -238.0),
        ("育才中学", "教育", 220.0, -120.0),
        ("东华路公交站", "交通", -60.0, 262.0),
        ("人民广场", "广场", 150.0, -30.0),
        ("新华书店", "商店", -14.0, -80.0),
        ("社区卫生服务中心", "医疗", -230.0, 200.0),
        ("光明路菜市场", "商店", 14.0, 180.0),
        ("市图书馆", "文化", 260.0, 60.0),
        ("和平派出所", "政务", -80.0, 14.0),
        ("育才路加油站", "服务", 314.0, -200.0),
    ];
    list.iter()
        .enumerate()
        .map(|(i, &(name, kind, dx, dy))| Site {
            id: format!("Q{:02}", i + 1),
            name: name.to_string(),
            kind,
            at: [E0 + dx, N0 + dy],
        })
        .collect()
}

/// Takes the truth (EPSG:4548) to a dataset's CRS: the point whose 2D conversion by `.0` (the
/// dataset's CRS → EPSG:4548, as `unify` does it) lands on the truth.
///
/// The plain inverse transformer is not quite that: a 2D conversion across datums takes the
/// height as 0 on its *source* datum, so EPSG:4548 → Beijing 1954 → EPSG:4548 in 2D is off by
/// about 2 mm here: a point on the CGCS2000 ellipsoid is 217 m below the Krassovsky one, and on
/// the way back it is taken on the Krassovsky one. So the inverse's answer is corrected until
/// the forward conversion reproduces the truth: q ← q + inv(p) − inv(fwd(q)), at most 20 times,
/// to 1e-8 m (the float noise of the chain of steps is about 3e-9 m).
struct Inverse(Transformer);

impl Inverse {
    fn transform_xy(&self, e: f64, n: f64) -> Result<(f64, f64), Box<dyn Error>> {
        let (fwd, inv) = (&self.0, self.0.inverse());
        let target = inv.transform_xy(e, n)?;
        let mut q = target;
        for _ in 0..20 {
            let (fe, fn_) = fwd.transform_xy(q.0, q.1)?;
            if (fe - e).hypot(fn_ - n) < 1e-8 {
                return Ok(q);
            }
            let back = inv.transform_xy(fe, fn_)?;
            q = (q.0 + target.0 - back.0, q.1 + target.1 - back.1);
        }
        Err(format!("no 2D inverse of {} for ({e}, {n})", fwd.source_id()).into())
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
    let mut registry = Registry::new();
    registry.load_file(dir.join("city.toml"))?;
    let (roads, parcels, pois) = (roads(), parcels(), pois());

    write_truth(&dir.join("truth_epsg4548.geojson"), &roads, &parcels, &pois)?;

    let to_grid = Inverse(registry.transformer("city:old-grid", "EPSG:4548")?);
    write_parcels(&dir.join("parcels_old_grid.csv"), &parcels, &to_grid)?;

    let to_bj54 = Inverse(registry.transformer("city:bj54-gk117", "EPSG:4548")?);
    write_roads(&dir, &roads, &to_bj54)?;

    let to_gcj = Inverse(registry.transformer("GCJ02", "EPSG:4548")?);
    write_pois(&dir.join("poi_gcj02.geojson"), &pois, &to_gcj)?;
    println!("wrote the sample exchange in {}", dir.display());
    Ok(())
}

/// The truth, as one GeoJSON FeatureCollection in EPSG:4548 (GDAL's `crs` member), millimetres.
fn write_truth(
    path: &Path,
    roads: &[Road],
    parcels: &[Site],
    pois: &[Site],
) -> Result<(), Box<dyn Error>> {
    let mut s = String::from(
        "{\"type\":\"FeatureCollection\",\
         \"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::4548\"}},\
         \"features\":[\n",
    );
    let mut features = Vec::new();
    for r in roads {
        let coords: Vec<String> =
            r.line.iter().map(|p| format!("[{:.3},{:.3}]", p[0], p[1])).collect();
        features.push(format!(
            "{{\"type\":\"Feature\",\"properties\":{{\"layer\":\"roads\",\"名称\":\"{}\"}},\
             \"geometry\":{{\"type\":\"LineString\",\"coordinates\":[{}]}}}}",
            r.name,
            coords.join(",")
        ));
    }
    for (layer, sites) in [("parcels", parcels), ("poi", pois)] {
        for p in sites {
            features.push(format!(
                "{{\"type\":\"Feature\",\"properties\":{{\"layer\":\"{layer}\",\"编号\":\"{}\",\"名称\":\"{}\"}},\
                 \"geometry\":{{\"type\":\"Point\",\"coordinates\":[{:.3},{:.3}]}}}}",
                p.id, p.name, p.at[0], p.at[1]
            ));
        }
    }
    s.push_str(&features.join(",\n"));
    s.push_str("\n]}\n");
    std::fs::write(path, s)?;
    Ok(())
}

/// Parcels as GBK CSV: 编号,名称,用途,E,N in the old grid, millimetres.
fn write_parcels(path: &Path, parcels: &[Site], t: &Inverse) -> Result<(), Box<dyn Error>> {
    let mut s = String::from("编号,名称,用途,E,N\n");
    for p in parcels {
        let (e, n) = t.transform_xy(p.at[0], p.at[1])?;
        writeln!(s, "{},{},{},{e:.3},{n:.3}", p.id, p.name, p.kind)?;
    }
    std::fs::write(path, gbk(&s)?)?;
    Ok(())
}

/// Roads as a Shapefile (polylines) with a GBK `.dbf` (NAME, CLASS, WIDTH) and a `.cpg`.
fn write_roads(dir: &Path, roads: &[Road], t: &Inverse) -> Result<(), Box<dyn Error>> {
    let stem: PathBuf = dir.join("roads_bj54");
    {
        let mut w = ShapeWriter::from_path(stem.with_extension("shp"))?;
        for r in roads {
            let mut points = Vec::new();
            for p in &r.line {
                let (x, y) = t.transform_xy(p[0], p[1])?;
                points.push(Point::new(x, y));
            }
            w.write_shape(&Polyline::new(points))?;
        }
        w.finalize()?;
    }
    let rows: Vec<[String; 3]> = roads
        .iter()
        .map(|r| [r.name.to_string(), r.class.to_string(), r.width_m.to_string()])
        .collect();
    std::fs::write(
        stem.with_extension("dbf"),
        dbf(&[("NAME", b'C', 40), ("CLASS", b'C', 20), ("WIDTH", b'N', 4)], &rows)?,
    )?;
    std::fs::write(stem.with_extension("cpg"), "GBK\n")?;
    Ok(())
}

/// A dBASE III table, text fields in GBK, language driver 0x4D (code page 936), dated 2025-01-01.
/// Character fields are left-aligned, numeric fields right-aligned, both padded with spaces.
fn dbf(fields: &[(&str, u8, u8)], rows: &[[String; 3]]) -> Result<Vec<u8>, Box<dyn Error>> {
    let header_len = 32 + 32 * fields.len() + 1;
    let record_len = 1 + fields.iter().map(|f| usize::from(f.2)).sum::<usize>();
    let mut b = vec![0x03, 125, 1, 1];
    b.extend(u32::try_from(rows.len())?.to_le_bytes());
    b.extend(u16::try_from(header_len)?.to_le_bytes());
    b.extend(u16::try_from(record_len)?.to_le_bytes());
    let mut reserved = [0u8; 20];
    reserved[17] = 0x4D; // byte 29: language driver, GBK
    b.extend(reserved);
    for (name, kind, len) in fields {
        let mut d = [0u8; 32];
        d[..name.len()].copy_from_slice(name.as_bytes());
        d[11] = *kind;
        d[16] = *len;
        b.extend(d);
    }
    b.push(0x0D);
    for row in rows {
        b.push(b' ');
        for ((_, kind, len), value) in fields.iter().zip(row) {
            let mut field = gbk(value)?;
            let len = usize::from(*len);
            if field.len() > len {
                return Err(format!("{value:?} is longer than its {len}-byte field").into());
            }
            let pad = vec![b' '; len - field.len()];
            if *kind == b'N' {
                b.extend(pad);
                b.extend(field);
            } else {
                field.extend(pad);
                b.extend(field);
            }
        }
    }
    b.push(0x1A);
    Ok(b)
}

/// Points of interest as a GeoJSON FeatureCollection in GCJ-02 (no `crs` member: GCJ-02 has no
/// code; the manifest declares it), UTF-8, degrees to 8 decimals.
fn write_pois(path: &Path, pois: &[Site], t: &Inverse) -> Result<(), Box<dyn Error>> {
    let mut features = Vec::new();
    for p in pois {
        let (lon, lat) = t.transform_xy(p.at[0], p.at[1])?;
        features.push(format!(
            "{{\"type\":\"Feature\",\"properties\":{{\"编号\":\"{}\",\"名称\":\"{}\",\"类别\":\"{}\"}},\
             \"geometry\":{{\"type\":\"Point\",\"coordinates\":[{lon:.8},{lat:.8}]}}}}",
            p.id, p.name, p.kind
        ));
    }
    let s =
        format!("{{\"type\":\"FeatureCollection\",\"features\":[\n{}\n]}}\n", features.join(",\n"));
    std::fs::write(path, s)?;
    Ok(())
}

/// `s` in GBK; an error if a character has no GBK code.
fn gbk(s: &str) -> Result<Vec<u8>, Box<dyn Error>> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(s);
    if unmappable {
        return Err(format!("{s:?} has characters outside GBK").into());
    }
    Ok(bytes.into_owned())
}
