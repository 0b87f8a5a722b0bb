//! Draws `data/sample/before_after.png`: the sample exchange's three layers overlaid in
//! EPSG:4548 the way users get them wrong (left, "before") and as geounify converts them
//! (right, "after"). `cargo run --example render_sample --features cli` (or `formats`).
//!
//! Both panels show the same 1.4 km × 1.4 km window of EPSG:4548, north up; the true street grid
//! is drawn in light grey under each. No text (plotters' font features need system libraries):
//! the legend is in `data/sample/README.md`.
//!
//! - Left panel (pink): the usual mistakes. The GCJ-02 points read as WGS84; the Beijing 1954
//!   roads read as CGCS2000 (same projection, datum ignored); the old-grid parcels taken back to
//!   Beijing 1954 Gauss-Krüger with their 4 parameters and then, like the roads, read as
//!   CGCS2000.
//! - Right panel (green): the outputs of `geounify::convert::convert_file` with the manifest's
//!   settings (what `geounify unify data/sample/exchange.toml` writes), read back from the files.

use geounify::convert::{convert_file, ConvertOptions, NoProgress, TextEncoding};
use geounify::{Registry, Transformer};
use plotters::prelude::*;
use serde_json::Value;
use std::error::Error;
use std::path::Path;

/// The window's south-west corner in EPSG:4548 and its side, metres.
const WEST: f64 = 448_230.0;
const SOUTH: f64 = 4_417_940.0;
const SIDE: f64 = 1_400.0;
/// A panel's size and its margin, pixels.
const PANEL: u32 = 450;
const MARGIN: i32 = 10;

/// One dataset as drawn: road lines, parcel points, POI points, all in EPSG:4548.
#[derive(Default)]
struct Layers {
    roads: Vec<Vec<[f64; 2]>>,
    parcels: Vec<[f64; 2]>,
    pois: Vec<[f64; 2]>,
}

type Res<T> = Result<T, Box<dyn Error>>;

fn main() -> Res<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
    let mut registry = Registry::new();
    registry.load_file(dir.join("city.toml"))?;
    let inputs = Layers {
        roads: read_roads(&dir.join("roads_bj54.shp"))?,
        parcels: read_parcels(&dir.join("parcels_old_grid.csv"))?,
        pois: read_pois(&dir.join("poi_gcj02.geojson"))?,
    };
    let truth = read_truth(&dir.join("truth_epsg4548.geojson"))?;
    let before = mistaken(&registry, &inputs)?;
    let after = unified(&registry, &dir)?;
    for (name, layers) in [("before", &before), ("after", &after)] {
        let roads = mean_offset(layers.roads.iter().flatten(), truth.roads.iter().flatten());
        let parcels = mean_offset(layers.parcels.iter(), truth.parcels.iter());
        let pois = mean_offset(layers.pois.iter(), truth.pois.iter());
        println!("{name}: mean offset from the truth (east, north; distance), metres:");
        for (layer, [de, dn, d]) in [("roads", roads), ("parcels", parcels), ("POIs", pois)] {
            println!("  {layer:8} {de:8.1} {dn:8.1}; {d:.1}");
        }
    }

    let path = dir.join("before_after.png");
    let root = BitMapBackend::new(&path, (2 * PANEL, PANEL)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(PANEL);
    draw_panel(&left, RGBColor(251, 232, 232), RGBColor(192, 57, 43), &truth, &before)?;
    draw_panel(&right, RGBColor(232, 245, 233), RGBColor(39, 174, 96), &truth, &after)?;
    root.present()?;
    println!("wrote {}", path.display());
    Ok(())
}

/// The layers as commonly mistaken (see the module docs).
fn mistaken(registry: &Registry, inputs: &Layers) -> Res<Layers> {
    let gcj_as_wgs84 = Transformer::from_ids("EPSG:4326", "EPSG:4548")?;
    let grid_to_bj54 = registry.transformer("city:old-grid", "city:bj54-gk117")?;
    let mut out = Layers { roads: inputs.roads.clone(), ..Layers::default() };
    for p in &inputs.parcels {
        let (e, n) = grid_to_bj54.transform_xy(p[0], p[1])?;
        out.parcels.push([e, n]);
    }
    for p in &inputs.pois {
        let (e, n) = gcj_as_wgs84.transform_xy(p[0], p[1])?;
        out.pois.push([e, n]);
    }
    Ok(out)
}

/// The datasets converted to EPSG:4548 by the library with the manifest's settings, read back.
fn unified(registry: &Registry, dir: &Path) -> Res<Layers> {
    let scratch = std::env::temp_dir().join(format!("geounify-render-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let result = (|| -> Res<Layers> {
        let target = registry.lookup("EPSG:4548")?;
        let gbk = ConvertOptions {
            x_col: Some("E".into()),
            y_col: Some("N".into()),
            encoding: Some(TextEncoding::Gbk),
            ..ConvertOptions::default()
        };
        let default = ConvertOptions::default();
        for (file, crs, options) in [
            ("parcels_old_grid.csv", "city:old-grid", &gbk),
            ("roads_bj54.shp", "city:bj54-gk117", &default),
            ("poi_gcj02.geojson", "GCJ02", &default),
        ] {
            let source = registry.lookup(crs)?;
            convert_file(
                &dir.join(file),
                &scratch.join(file),
                &source,
                &target,
                options,
                &NoProgress,
            )?;
        }
        Ok(Layers {
            roads: read_roads(&scratch.join("roads_bj54.shp"))?,
            parcels: read_parcels(&scratch.join("parcels_old_grid.csv"))?,
            pois: read_pois(&scratch.join("poi_gcj02.geojson"))?,
        })
    })();
    std::fs::remove_dir_all(&scratch)?;
    result
}

fn read_roads(path: &Path) -> Res<Vec<Vec<[f64; 2]>>> {
    let lines = shapefile::read_shapes_as::<_, shapefile::Polyline>(path)?;
    Ok(lines
        .iter()
        .flat_map(|l| l.parts().iter().map(|part| part.iter().map(|p| [p.x, p.y]).collect()))
        .collect())
}

/// The E, N columns (4th and 5th) of the GBK parcels CSV.
fn read_parcels(path: &Path) -> Res<Vec<[f64; 2]>> {
    let bytes = std::fs::read(path)?;
    let (text, _, _) = encoding_rs::GBK.decode(&bytes);
    let mut v = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 5 {
            return Err(format!("{}: unexpected row {line:?}", path.display()).into());
        }
        v.push([f[3].parse()?, f[4].parse()?]);
    }
    Ok(v)
}

fn read_pois(path: &Path) -> Res<Vec<[f64; 2]>> {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let features = doc["features"].as_array().ok_or("no features")?;
    features.iter().map(|f| position(&f["geometry"]["coordinates"])).collect()
}

fn position(v: &Value) -> Res<[f64; 2]> {
    match (v[0].as_f64(), v[1].as_f64()) {
        (Some(x), Some(y)) => Ok([x, y]),
        _ => Err(format!("not a position: {v}").into()),
    }
}

fn read_truth(path: &Path) -> Res<Layers> {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let mut t = Layers::default();
    for f in doc["features"].as_array().ok_or("no features")? {
        let c = &f["geometry"]["coordinates"];
        match f["properties"]["layer"].as_str() {
            Some("roads") => {
                let line = c.as_array().ok_or("no line")?;
                t.roads.push(line.iter().map(position).collect::<Res<_>>()?);
            }
            Some("parcels") => t.parcels.push(position(c)?),
            Some("poi") => t.pois.push(position(c)?),
            other => return Err(format!("unknown layer {other:?}").into()),
        }
    }
    Ok(t)
}

/// The mean of `got − want`: east, north, and distance, metres.
fn mean_offset<'a>(
    got: impl Iterator<Item = &'a [f64; 2]>,
    want: impl Iterator<Item = &'a [f64; 2]>,
) -> [f64; 3] {
    let mut sum = [0.0; 3];
    let mut n = 0.0;
    for (a, b) in got.zip(want) {
        let (de, dn) = (a[0] - b[0], a[1] - b[1]);
        sum = [sum[0] + de, sum[1] + dn, sum[2] + de.hypot(dn)];
        n += 1.0;
    }
    sum.map(|s| s / f64::max(n, 1.0))
}

/// EPSG:4548 metres to the panel's pixels (north up).
fn px(p: &[f64; 2]) -> (i32, i32) {
    let scale = f64::from(PANEL - 2 * MARGIN as u32) / SIDE;
    let x = MARGIN as f64 + (p[0] - WEST) * scale;
    let y = MARGIN as f64 + (SOUTH + SIDE - p[1]) * scale;
    (x.round() as i32, y.round() as i32)
}

/// A line drawn segment by segment: plotters' wide paths bend at collinear vertices.
fn polyline<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    line: &[[f64; 2]],
    style: ShapeStyle,
) -> Result<(), Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    for pair in line.windows(2) {
        area.draw(&PathElement::new(vec![px(&pair[0]), px(&pair[1])], style))?;
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    background: RGBColor,
    frame: RGBColor,
    truth: &Layers,
    layers: &Layers,
) -> Result<(), Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    let size = PANEL as i32;
    area.fill(&background)?;
    area.draw(&Rectangle::new([(2, 2), (size - 3, size - 3)], frame.stroke_width(4)))?;
    let grey = RGBColor(190, 190, 190);
    for line in &truth.roads {
        polyline(area, line, grey.stroke_width(7))?;
    }
    for p in truth.parcels.iter().chain(&truth.pois) {
        let (x, y) = px(p);
        area.draw(&Rectangle::new([(x - 4, y - 4), (x + 4, y + 4)], grey.filled()))?;
    }
    let (road, parcel, poi) =
        (RGBColor(31, 58, 147), RGBColor(230, 126, 34), RGBColor(142, 68, 173));
    for line in &layers.roads {
        polyline(area, line, road.stroke_width(2))?;
    }
    for p in &layers.parcels {
        let (x, y) = px(p);
        area.draw(&Rectangle::new([(x - 3, y - 3), (x + 3, y + 3)], parcel.filled()))?;
    }
    for p in &layers.pois {
        area.draw(&Circle::new(px(p), 3, poi.filled()))?;
    }
    // Scale bar: 500 m, bottom left.
    let (x0, y0) = px(&[WEST + 50.0, SOUTH + 50.0]);
    let (x1, _) = px(&[WEST + 550.0, SOUTH + 50.0]);
    area.draw(&Rectangle::new([(x0, y0 - 2), (x1, y0 + 2)], BLACK.filled()))?;
    for x in [x0, x1] {
        area.draw(&Rectangle::new([(x - 1, y0 - 7), (x + 1, y0 + 2)], BLACK.filled()))?;
    }
    Ok(())
}
