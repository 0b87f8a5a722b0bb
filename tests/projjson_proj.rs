//! Our PROJJSON (`Crs::to_projjson`, written into GeoParquet's `geo` metadata) read by PROJ
//! (feature `proj`): every catalogue CRS parses, with and without its `id`s (without them PROJ
//! cannot look the code up and must use the definition), and computes what PROJ computes for
//! the EPSG code (1 µm); a user datum's `BoundCRS` applies its 7 parameters as geounify does
//! (1e-11° in longitude; 1e-9° in latitude, the CGCS2000 / WGS 84 ellipsoid difference
//! explained there); the marked placeholders of GCJ-02 and local grids parse and are not WGS 84.
#![cfg(feature = "proj")]

use geounify::catalogue;
use geounify::crs::{Crs, CrsKind, Projection};
use geounify::datum::{Datum, DatumShift};
use geounify::ops::{GaussKrugerParams, HelmertConvention, HelmertParams};
use geounify::{Heights, Transformer};
use proj::Proj;
use serde_json::Value;

const METRES: f64 = 1e-6;

/// `text` with every `id` member removed.
fn without_ids(text: &str) -> String {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("id");
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: Value = serde_json::from_str(text).unwrap();
    strip(&mut v);
    v.to_string()
}

/// The geographic CRS a projected catalogue CRS is based on.
fn base(crs: &Crs) -> String {
    let d = crs.datum();
    if *d == Datum::cgcs2000() {
        "EPSG:4490"
    } else if *d == Datum::beijing1954() {
        "EPSG:4214"
    } else if *d == Datum::xian1980() {
        "EPSG:4610"
    } else {
        "EPSG:4326"
    }
    .into()
}

#[test]
fn proj_reads_our_projjson_as_the_epsg_definitions() {
    let mut n = 0;
    let mut worst: f64 = 0.0;
    for crs in catalogue::all() {
        let Some(code) = crs.epsg() else { continue };
        if matches!(crs.kind(), CrsKind::Geocentric) {
            assert!(crs.to_projjson().is_err());
            continue;
        }
        let json = crs.to_projjson().unwrap();
        Proj::new(&json).unwrap_or_else(|e| panic!("EPSG:{code}: {e}: {json}"));
        let bare = without_ids(&json);
        match crs.kind() {
            CrsKind::Projected(p) => {
                let epsg = Proj::new_known_crs(&base(&crs), &format!("EPSG:{code}"), None).unwrap();
                let ours = Proj::new_known_crs(&base(&crs), &bare, None).unwrap();
                let lon0 = match p {
                    Projection::WebMercator => 114.0,
                    _ => crs.transverse_mercator().unwrap().lon0,
                };
                for (dl, lat) in [(-1.2, 22.5), (0.0, 30.0), (0.7, 41.0), (1.4, 50.2)] {
                    let a: (f64, f64) = epsg.convert((lon0 + dl, lat)).unwrap();
                    let b: (f64, f64) = ours.convert((lon0 + dl, lat)).unwrap();
                    let d = (a.0 - b.0).abs().max((a.1 - b.1).abs());
                    assert!(d <= METRES, "EPSG:{code}: {a:?} vs {b:?}");
                    worst = worst.max(d);
                }
            }
            _ => {
                // Geographic: the definition without ids reads back to the same coordinates.
                let p = Proj::new_known_crs(&bare, &format!("EPSG:{code}"), None).unwrap();
                let q: (f64, f64) = p.convert((114.25, 30.5)).unwrap();
                assert!((q.0 - 114.25).abs() < 1e-11 && (q.1 - 30.5).abs() < 1e-11, "EPSG:{code}");
            }
        }
        n += 1;
    }
    assert!(n > 190, "{n}");
    eprintln!("{n} PROJJSON definitions read by PROJ; max projected difference {worst:e} m");
}

#[test]
fn a_user_datum_is_a_bound_crs_that_proj_applies_as_geounify_does() {
    let shift = DatumShift::Helmert(HelmertParams {
        tx: -12.7,
        ty: 131.2,
        tz: 47.6,
        rx: 0.41,
        ry: -0.16,
        rz: 1.05,
        s: -2.7,
        convention: HelmertConvention::CoordinateFrame,
    });
    let datum = Datum::beijing1954().with_shift("bj54-test", shift);
    let params = GaussKrugerParams { lon0: 117.0, lat0: 0.0, k0: 1.0, x0: 500_000.0, y0: 0.0 };
    let kind = CrsKind::Projected(Projection::GaussKruger(params));
    let crs = Crs::new("USER", "Beijing 1954 (test) / CM 117E", datum, kind, None, None).unwrap();
    let json = crs.to_projjson().unwrap();
    assert!(json.contains("\"BoundCRS\""), "{json}");
    let wgs84 = catalogue::lookup("EPSG:4326").unwrap();
    let theirs = Proj::new_known_crs(&json, "EPSG:4326", None).unwrap();
    let ours = Transformer::with_heights(&crs, &wgs84, Heights::Elevation).unwrap();
    for p in [(450_000.0, 3_300_000.0), (520_000.0, 4_400_000.0)] {
        let a: (f64, f64) = theirs.convert(p).unwrap();
        let b = ours.transform_xy(p.0, p.1).unwrap();
        // geounify treats CGCS2000 and WGS 84 as one frame and keeps the geographic
        // coordinates across their ellipsoids; PROJ, bound to WGS 84, goes through geocentric
        // onto the WGS 84 ellipsoid: their flattenings differ by 1.6e-11, which moves the
        // latitude by up to 1.6e-11 rad ≈ 9e-10° (0.1 mm). Longitudes agree to 1e-11°.
        assert!((a.0 - b.0).abs() < 1e-11 && (a.1 - b.1).abs() < 1e-9, "{a:?} vs {b:?}");
    }
}

#[test]
fn marked_placeholders_parse_and_are_not_wgs84() {
    for id in ["GCJ02", "BD09", "BD09MC"] {
        let crs = catalogue::lookup(id).unwrap();
        assert!(crs.to_projjson().is_err());
        let json = geounify::projjson::marked(&crs);
        let p = Proj::new(&json).unwrap_or_else(|e| panic!("{id}: {e}: {json}"));
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["id"]["authority"], "GEOUNIFY");
        assert_eq!(v["id"]["code"], id);
        let described = p.proj_info().definition.unwrap_or_default();
        assert!(!described.contains("+datum=WGS84"), "{id}: {described}");
    }
}
