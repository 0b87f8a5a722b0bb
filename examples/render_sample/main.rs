//! Draws `data/sample/before_after.png`: the sample exchange's three layers overlaid in
//! EPSG:4548 the way users get them wrong (left, "before") and as geounify converts them
//! (right, "after"). `cargo run --example render_sample --features cli` (or `formats`).
//!
//! Both panels show the same 1.4 km × 1.4 km window of EPSG:4548, north up, with a 500 m scale
//! bar; the true street grid is drawn in light grey under each. Above the panels, a title and a
//! caption per panel; below, the legend; in each panel, each layer's mean distance from the
//! truth, computed here from the data. The text is drawn with the example's own bitmap font
//! (`font.rs`, printable ASCII), because plotters' font features need system libraries
//! (fontconfig, FreeType) that a fresh CI machine lacks.
//!
//! - Left panel (pink): the usual mistakes. The GCJ-02 points read as WGS84; the Beijing 1954
//!   roads read as CGCS2000 (same projection, datum ignored); the old-grid parcels taken back to
//!   Beijing 1954 Gauss-Krüger with their 4 parameters and then, like the roads, read as
//!   CGCS2000.
//! - Right panel (green): the outputs of `geounify::convert::convert_file` with the manifest's
//!   settings (what `geounify unify data/sample/exchange.toml` writes), read back from the files.
//!
//! The picture is the same bytes on every run. `cargo test --examples --features cli` checks that
//! the font has every character the picture's text uses, that the text lies inside the picture,
//! and that the committed PNG is what this example draws now (so it is regenerated when the
//! sample data or the drawing changes).

mod font;

use font::Font;
use geounify::convert::{convert_file, ConvertOptions, NoProgress, TextEncoding};
use geounify::{Registry, Transformer};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::Value;
use std::error::Error;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The window's south-west corner in EPSG:4548 and its side, metres.
const WEST: f64 = 448_230.0;
const SOUTH: f64 = 4_417_940.0;
const SIDE: f64 = 1_400.0;
/// The scale bar's length, metres.
const BAR: f64 = 500.0;
/// A panel's size and its margin, pixels.
const PANEL: u32 = 450;
const MARGIN: i32 = 10;
/// The bands above the panels (title, captions) and below them (legend), pixels.
const TOP: i32 = 84;
const LEGEND: i32 = 96;
/// The picture's size, pixels.
const WIDTH: u32 = 2 * PANEL;
const HEIGHT: u32 = TOP as u32 + PANEL + LEGEND as u32;
/// Every text is drawn at this scale: a font pixel is a 2 × 2 square.
const TEXT_SCALE: i32 = 2;

const INK: RGBColor = RGBColor(33, 33, 33);
const TRUTH: RGBColor = RGBColor(190, 190, 190);
const ROAD: RGBColor = RGBColor(31, 58, 147);
const PARCEL: RGBColor = RGBColor(230, 126, 34);
const POI: RGBColor = RGBColor(142, 68, 173);

const TITLE: &str = "Sample exchange in EPSG:4548: before (left) / after geounify (right)";

/// A panel's caption, background and frame colour.
struct PanelStyle {
    caption: &'static str,
    background: RGBColor,
    frame: RGBColor,
}

const BEFORE: PanelStyle = PanelStyle {
    caption: "before: each layer read as the system it is mistaken for",
    background: RGBColor(251, 232, 232),
    frame: RGBColor(192, 57, 43),
};
const AFTER: PanelStyle = PanelStyle {
    caption: "after: geounify unify",
    background: RGBColor(232, 245, 233),
    frame: RGBColor(39, 174, 96),
};

/// One dataset as drawn: road lines, parcel points, POI points, all in EPSG:4548.
#[derive(Default)]
struct Layers {
    roads: Vec<Vec<[f64; 2]>>,
    parcels: Vec<[f64; 2]>,
    pois: Vec<[f64; 2]>,
}

/// What the picture shows: the truth, and the layers before and after.
struct Picture {
    truth: Layers,
    before: Layers,
    after: Layers,
}

type Res<T> = Result<T, Box<dyn Error>>;

fn main() -> Res<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
    let picture = Picture::load(&dir)?;
    for (name, layers) in [("before", &picture.before), ("after", &picture.after)] {
        println!("{name}: mean offset from the truth (east, north; distance), metres:");
        for (layer, _, [de, dn, d]) in offsets(layers, &picture.truth) {
            println!("  {layer:8} {de:8.1} {dn:8.1}; {d:.1}");
        }
    }
    let path = dir.join("before_after.png");
    render(&picture, &path)?;
    println!("wrote {}", path.display());
    Ok(())
}

impl Picture {
    /// Reads the sample in `dir`, makes the mistakes and runs the conversions.
    fn load(dir: &Path) -> Res<Picture> {
        let mut registry = Registry::new();
        registry.load_file(dir.join("city.toml"))?;
        let inputs = Layers {
            roads: read_roads(&dir.join("roads_bj54.shp"))?,
            parcels: read_parcels(&dir.join("parcels_old_grid.csv"))?,
            pois: read_pois(&dir.join("poi_gcj02.geojson"))?,
        };
        Ok(Picture {
            truth: read_truth(&dir.join("truth_epsg4548.geojson"))?,
            before: mistaken(&registry, &inputs)?,
            after: unified(&registry, dir)?,
        })
    }
}

/// Each layer's name, legend symbol and mean offset from the truth (east, north, distance;
/// metres), in the legend's order.
fn offsets(layers: &Layers, truth: &Layers) -> [(&'static str, Swatch, [f64; 3]); 3] {
    [
        ("POIs", Swatch::Poi, mean_offset(layers.pois.iter(), truth.pois.iter())),
        (
            "roads",
            Swatch::Road,
            mean_offset(layers.roads.iter().flatten(), truth.roads.iter().flatten()),
        ),
        ("parcels", Swatch::Parcel, mean_offset(layers.parcels.iter(), truth.parcels.iter())),
    ]
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
    // Unique per call: the tests load the picture in parallel.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let scratch =
        std::env::temp_dir().join(format!("geounify-render-{}-{call}", std::process::id()));
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

/// The scale bar's ends in the panel, pixels: bottom left, `BAR` metres long.
fn scale_bar() -> ((i32, i32), (i32, i32)) {
    (px(&[WEST + 50.0, SOUTH + 50.0]), px(&[WEST + 50.0 + BAR, SOUTH + 50.0]))
}

/// The symbols of the map, drawn the same in the panels and in the legend.
#[derive(Clone, Copy, Debug)]
enum Swatch {
    /// A true road: a wide light grey line.
    TrueRoad,
    /// A true parcel or point of interest: a light grey square.
    TruePoint,
    /// A road: a thin dark blue line.
    Road,
    /// A parcel: an orange square.
    Parcel,
    /// A point of interest: a purple dot.
    Poi,
}

impl Swatch {
    /// The style of a line symbol.
    fn line_style(truth: bool) -> ShapeStyle {
        if truth {
            TRUTH.stroke_width(7)
        } else {
            ROAD.stroke_width(2)
        }
    }

    /// Draws the symbol centred on `(x, y)`: points as they are in the map, lines 30 px long.
    fn draw<DB: DrawingBackend>(self, area: &DrawingArea<DB, Shift>, (x, y): (i32, i32)) -> Res<()>
    where
        DB::ErrorType: 'static,
    {
        let line =
            |truth| PathElement::new(vec![(x - 15, y), (x + 15, y)], Self::line_style(truth));
        match self {
            Swatch::TrueRoad => area.draw(&line(true))?,
            Swatch::Road => area.draw(&line(false))?,
            Swatch::TruePoint => {
                area.draw(&Rectangle::new([(x - 4, y - 4), (x + 4, y + 4)], TRUTH.filled()))?
            }
            Swatch::Parcel => {
                area.draw(&Rectangle::new([(x - 3, y - 3), (x + 3, y + 3)], PARCEL.filled()))?
            }
            Swatch::Poi => area.draw(&Circle::new((x, y), 3, POI.filled()))?,
        }
        Ok(())
    }
}

/// A line of text: its top left corner in the picture, pixels, and its colour.
struct Label {
    text: String,
    at: (i32, i32),
    color: RGBColor,
}

/// What is drawn over the map: text and legend symbols, in picture pixels.
enum Item {
    Text(Label),
    Symbol(Swatch, (i32, i32)),
}

/// The height of a line of text, of its capitals and digits, and the middle of these below the
/// line's top, pixels.
const LINE: i32 = font::LINE_HEIGHT * TEXT_SCALE;
const CAPITALS: i32 = font::CAPITAL_HEIGHT * TEXT_SCALE;
const MIDDLE: i32 = CAPITALS / 2;

fn text(text: impl Into<String>, at: (i32, i32), color: RGBColor) -> Item {
    Item::Text(Label { text: text.into(), at, color })
}

/// Splits `text` at spaces into lines of at most `max` characters (a longer word has its own).
fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= max => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// The title, the captions, each panel's scale and offsets, and the legend.
fn items(picture: &Picture) -> Vec<Item> {
    let width = |s: &str| Font::width(s, TEXT_SCALE);
    let panel = PANEL as i32;
    let mut items = vec![text(TITLE, ((WIDTH as i32 - width(TITLE)) / 2, 10), INK)];
    let panels = [(0, &BEFORE, &picture.before), (panel, &AFTER, &picture.after)];
    for (left, style, layers) in panels {
        // The caption, centred above the panel.
        let max = (panel - 2 * MARGIN) / (font::ADVANCE * TEXT_SCALE);
        let lines = wrap(style.caption, max as usize);
        for (line, y) in lines.into_iter().zip((36..).step_by(LINE as usize)) {
            let x = left + (panel - width(&line)) / 2;
            items.push(text(line, (x, y), style.frame));
        }
        // The scale bar's length, centred over it, 2 px above its ticks (7 px high).
        let ((x0, y0), (x1, _)) = scale_bar();
        let label = format!("{BAR} m");
        let x = left + (x0 + x1 - width(&label)) / 2;
        items.push(text(label, (x, TOP + y0 - 9 - CAPITALS), INK));
        // Each layer's mean distance from the truth, bottom right, with its symbol.
        let lines: Vec<(Swatch, String)> = offsets(layers, &picture.truth)
            .into_iter()
            .map(|(name, swatch, [.., d])| (swatch, format!("{name:<8}{d:>6.1} m")))
            .collect();
        let right = left + panel - 16;
        let block = lines.iter().map(|(_, l)| width(l)).max().unwrap_or(0) + 40;
        // A heading and three lines, the last one's capitals 14 px above the panel's bottom.
        let mut y = TOP + panel - 14 - CAPITALS - 3 * LINE;
        items.push(text("offset from truth", (right - block, y), INK));
        for (swatch, line) in lines {
            y += LINE;
            items.push(Item::Symbol(swatch, (right - block + 15, y + MIDDLE)));
            items.push(text(line, (right - block + 40, y), INK));
        }
    }
    // The legend: the layers on the left, the truth on the right.
    let legend = [
        (0, Some(Swatch::Poi), "POIs (GCJ-02)"),
        (0, Some(Swatch::Road), "roads (Beijing 1954)"),
        (0, Some(Swatch::Parcel), "parcels (city old grid)"),
        (1, Some(Swatch::TrueRoad), "true street grid"),
        (1, Some(Swatch::TruePoint), "true parcels and POIs"),
        (1, None, &format!("{} km square, north up", SIDE / 1000.0)),
    ];
    let mut rows = [0, 0];
    for (column, swatch, label) in legend {
        let x = 24 + column * panel;
        let y = TOP + panel + 12 + rows[column as usize] * 26;
        rows[column as usize] += 1;
        if let Some(swatch) = swatch {
            items.push(Item::Symbol(swatch, (x + 15, y + MIDDLE)));
        }
        items.push(text(label, (x + 40, y), INK));
    }
    items
}

/// A line drawn segment by segment: plotters' wide paths bend at collinear vertices.
fn polyline<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    line: &[[f64; 2]],
    style: ShapeStyle,
) -> Res<()>
where
    DB::ErrorType: 'static,
{
    for pair in line.windows(2) {
        area.draw(&PathElement::new(vec![px(&pair[0]), px(&pair[1])], style))?;
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    style: &PanelStyle,
    truth: &Layers,
    layers: &Layers,
) -> Res<()>
where
    DB::ErrorType: 'static,
{
    let size = PANEL as i32;
    area.fill(&style.background)?;
    area.draw(&Rectangle::new([(2, 2), (size - 3, size - 3)], style.frame.stroke_width(4)))?;
    for line in &truth.roads {
        polyline(area, line, Swatch::line_style(true))?;
    }
    for p in truth.parcels.iter().chain(&truth.pois) {
        Swatch::TruePoint.draw(area, px(p))?;
    }
    for line in &layers.roads {
        polyline(area, line, Swatch::line_style(false))?;
    }
    for p in &layers.parcels {
        Swatch::Parcel.draw(area, px(p))?;
    }
    for p in &layers.pois {
        Swatch::Poi.draw(area, px(p))?;
    }
    let ((x0, y0), (x1, _)) = scale_bar();
    area.draw(&Rectangle::new([(x0, y0 - 2), (x1, y0 + 2)], BLACK.filled()))?;
    for x in [x0, x1] {
        area.draw(&Rectangle::new([(x - 1, y0 - 7), (x + 1, y0 + 2)], BLACK.filled()))?;
    }
    Ok(())
}

/// Draws the whole picture on `root` (`WIDTH` × `HEIGHT` pixels).
fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, picture: &Picture) -> Res<()>
where
    DB::ErrorType: 'static,
{
    let font = Font::new()?;
    root.fill(&WHITE)?;
    let (_, below) = root.split_vertically(TOP);
    let (panels, _) = below.split_vertically(PANEL);
    let (left, right) = panels.split_horizontally(PANEL);
    draw_panel(&left, &BEFORE, &picture.truth, &picture.before)?;
    draw_panel(&right, &AFTER, &picture.truth, &picture.after)?;
    for item in items(picture) {
        match item {
            Item::Text(label) => {
                font.draw(root, &label.text, label.at, TEXT_SCALE, &label.color)?
            }
            Item::Symbol(swatch, at) => swatch.draw(root, at)?,
        }
    }
    Ok(())
}

/// Draws the picture into a PNG file.
fn render(picture: &Picture, path: &Path) -> Res<()> {
    let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    draw(&root, picture)?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample")
    }

    #[test]
    fn the_font_has_every_printable_ascii_character_and_nothing_else() -> Res<()> {
        let font = Font::new()?;
        for c in ' '..='~' {
            assert!(font.glyph(c).is_some(), "{c:?}");
        }
        assert_eq!(font.glyph(' '), Some(&[0; font::GLYPH_HEIGHT as usize]));
        for c in ['\u{1f}', '\u{7f}', 'é', '×', '路'] {
            assert!(font.glyph(c).is_none(), "{c:?}");
        }
        // Every other glyph draws something, and no two look the same.
        let drawn: Vec<_> = ('!'..='~').filter_map(|c| font.glyph(c)).collect();
        assert!(drawn.iter().all(|g| g.iter().any(|row| *row != 0)));
        for (i, a) in drawn.iter().enumerate() {
            assert!(drawn[i + 1..].iter().all(|b| a != b), "glyph {i} appears twice");
        }
        assert_eq!(Font::width("", 2), 0);
        assert_eq!(Font::width("500 m", 2), (5 * 6 - 1) * 2);
        Ok(())
    }

    #[test]
    fn every_text_of_the_picture_has_its_glyphs_and_lies_inside_the_picture() -> Res<()> {
        let font = Font::new()?;
        let picture = Picture::load(&sample())?;
        let mut texts = Vec::new();
        for item in items(&picture) {
            if let Item::Text(label) = item {
                for c in label.text.chars() {
                    assert!(font.glyph(c).is_some(), "{c:?} in {:?}", label.text);
                }
                let (x, y) = label.at;
                let (right, bottom) =
                    (x + Font::width(&label.text, TEXT_SCALE), y + LINE - 2 * TEXT_SCALE);
                assert!(x >= 0 && y >= 0, "{:?} at {:?}", label.text, label.at);
                assert!(right <= WIDTH as i32 && bottom <= HEIGHT as i32, "{:?}", label.text);
                texts.push(label.text);
            }
        }
        // The text the picture must show: title, captions, scale, legend, the offsets.
        let all = texts.join("\n");
        for wanted in [
            TITLE,
            "500 m",
            "POIs (GCJ-02)",
            "roads (Beijing 1954)",
            "parcels (city old grid)",
            "true street grid",
        ] {
            assert!(texts.iter().any(|t| t == wanted), "{wanted:?} not in {all}");
        }
        assert_eq!(wrap(BEFORE.caption, 36).join(" "), BEFORE.caption);
        assert!(all.contains("before: each layer") && all.contains("after: geounify unify"));
        // The before panel's offsets are the README's (556 m; 148.5 m), the after panel's 0.
        let count = |s: &str| texts.iter().filter(|t| t.contains(s)).count();
        assert_eq!(count("  0.0 m"), 3, "{all}");
        assert_eq!((count("556.2 m"), count("148.5 m")), (1, 2), "{all}");
        Ok(())
    }

    #[test]
    fn the_committed_picture_is_what_the_example_draws() -> Res<()> {
        let committed = std::fs::read(sample().join("before_after.png"))?;
        // PNG: signature, then the IHDR chunk with the width and height (big-endian).
        let size = |png: &[u8]| -> Option<(u32, u32)> {
            let w = png.get(16..20)?.try_into().ok()?;
            let h = png.get(20..24)?.try_into().ok()?;
            Some((u32::from_be_bytes(w), u32::from_be_bytes(h)))
        };
        assert_eq!(
            size(&committed),
            Some((WIDTH, HEIGHT)),
            "data/sample/before_after.png has another size: regenerate it with \
             cargo run --example render_sample --features cli"
        );
        let path =
            std::env::temp_dir().join(format!("geounify-render-test-{}.png", std::process::id()));
        let result = render(&Picture::load(&sample())?, &path);
        let drawn = std::fs::read(&path);
        std::fs::remove_file(&path)?;
        result?;
        let drawn = drawn?;
        assert_eq!(size(&drawn), Some((WIDTH, HEIGHT)));
        assert!(
            drawn == committed,
            "data/sample/before_after.png is out of date: \
             cargo run --example render_sample --features cli"
        );
        Ok(())
    }
}
