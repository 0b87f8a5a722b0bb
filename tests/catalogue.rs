//! The built-in catalogue: ids, aliases, code ranges, zone parameters, and its WKT / PROJ-string
//! export. Expected WKT and PROJ strings are PROJ 9.6's own exports for the same EPSG codes
//! (`projinfo -o WKT1_GDAL EPSG:4547`, `projinfo -o PROJ EPSG:4547` without `+type=crs`);
//! `tests/proj_differential.rs` checks every entry against PROJ itself.

use geounify::ops::{GaussKrugerParams, HelmertConvention, HelmertParams, MolodenskyParams};

mod common;
use geounify::{
    catalogue, BuildError, Crs, CrsError, CrsKind, Datum, DatumShift, Ellipsoid, ExportError,
    Projection, Transformer,
};

fn gk(id: &str) -> GaussKrugerParams {
    match catalogue::lookup(id).unwrap().kind() {
        CrsKind::Projected(Projection::GaussKruger(p)) => p.clone(),
        other => panic!("{id} is not Gauss-Krüger: {other:?}"),
    }
}

#[test]
fn lookup_is_case_insensitive_and_trims() {
    for id in ["EPSG:4547", "epsg:4547", "Epsg:4547", "  EPSG:4547 "] {
        let crs = catalogue::lookup(id).unwrap();
        assert_eq!(crs.id(), "EPSG:4547");
        assert_eq!(crs.epsg(), Some(4547));
        assert_eq!(crs.name(), "CGCS2000 / 3-degree Gauss-Kruger CM 114E");
    }
    for id in ["gcj02", "Bd09", "bd09mc"] {
        assert_eq!(catalogue::lookup(id).unwrap().id(), id.to_ascii_uppercase());
    }
}

#[test]
fn aliases_resolve_to_their_ids() {
    let expected = [
        ("WGS84", "EPSG:4326"),
        ("CGCS2000", "EPSG:4490"),
        ("BJ54", "EPSG:4214"),
        ("XIAN80", "EPSG:4610"),
        ("WEBMERC", "EPSG:3857"),
        ("GCJ-02", "GCJ02"),
        ("BD-09", "BD09"),
    ];
    for (alias, id) in expected {
        assert!(catalogue::aliases().contains(&(alias, id)), "{alias} missing from aliases()");
    }
    for &(alias, id) in catalogue::aliases() {
        let by_alias = catalogue::lookup(alias).unwrap();
        assert_eq!(by_alias, catalogue::lookup(id).unwrap(), "{alias}");
        assert_eq!(catalogue::lookup(&alias.to_ascii_lowercase()).unwrap(), by_alias);
    }
}

#[test]
fn unknown_ids_are_errors_naming_the_id() {
    for id in ["", "EPSG:", "EPSG:x", "EPSG:4555", "EPSG:2326", "EPSG:2443", "EPSG:21424", "foo"] {
        assert_eq!(catalogue::lookup(id), Err(CrsError::Unknown { id: id.to_string() }), "{id:?}");
    }
    assert!(matches!(
        Transformer::from_ids("EPSG:4326", "EPSG:9999"),
        Err(BuildError::UnknownCrs(CrsError::Unknown { id })) if id == "EPSG:9999"
    ));
}

#[test]
fn every_code_range_is_present_and_counted() {
    let all = catalogue::all();
    assert_eq!(all.len(), 4 + 4 + 64 * 3 + 1 + 3);
    let ids: Vec<&str> = all.iter().map(Crs::id).collect();
    assert_eq!(&ids[..4], ["EPSG:4326", "EPSG:4490", "EPSG:4214", "EPSG:4610"]);
    assert_eq!(&ids[4..8], ["EPSG:4979", "EPSG:4480", "EPSG:4978", "EPSG:4479"]);
    assert_eq!(&ids[ids.len() - 3..], ["GCJ02", "BD09", "BD09MC"]);
    // The 3D CRSs (ellipsoidal heights) and nothing else.
    let three_d: Vec<&str> = all.iter().filter(|c| c.is_3d()).map(Crs::id).collect();
    assert_eq!(three_d, ["EPSG:4979", "EPSG:4480", "EPSG:4978", "EPSG:4479"]);
    for (code, datum, geocentric) in [
        (4979, "WGS84", false),
        (4480, "CGCS2000", false),
        (4978, "WGS84", true),
        (4479, "CGCS2000", true),
    ] {
        let crs = catalogue::lookup(&format!("EPSG:{code}")).unwrap();
        assert_eq!(crs.datum().id(), datum, "EPSG:{code}");
        assert_eq!(matches!(crs.kind(), CrsKind::Geocentric), geocentric, "EPSG:{code}");
        assert_eq!(matches!(crs.kind(), CrsKind::Geographic), !geocentric, "EPSG:{code}");
    }
    let codes: Vec<u32> = all.iter().filter_map(Crs::epsg).collect();
    let projected = &codes[8..];
    assert!(projected.windows(2).all(|w| w[0] < w[1]), "projected CRSs sorted by code");
    let ranges: [(std::ops::RangeInclusive<u32>, &str); 7] = [
        (4491..=4554, "CGCS2000"),
        (2401..=2442, "BJ54"),
        (21413..=21423, "BJ54"),
        (21453..=21463, "BJ54"),
        (2327..=2390, "XIAN80"),
        (3857..=3857, "WGS84"),
        (4214..=4214, "BJ54"),
    ];
    for (range, datum) in ranges {
        for code in range {
            let crs = catalogue::lookup(&format!("EPSG:{code}")).unwrap();
            assert_eq!(crs.datum().id(), datum, "EPSG:{code}");
            assert!(codes.contains(&code), "EPSG:{code} missing from all()");
            assert!(crs.area_of_use().is_some(), "EPSG:{code} has no area of use");
        }
    }
    let count = |datum: &str| {
        all.iter()
            .filter(|c| matches!(c.kind(), CrsKind::Projected(Projection::GaussKruger(_))))
            .filter(|c| c.datum().id() == datum)
            .count()
    };
    assert_eq!((count("CGCS2000"), count("BJ54"), count("XIAN80")), (64, 64, 64));
}

/// Zone numbers, central meridians and false eastings, read from the EPSG names (which come
/// from PROJ's database) and checked against the parameters (derived from the codes).
#[test]
fn zone_numbers_central_meridians_and_false_eastings_agree() {
    let mut checked = 0;
    for crs in catalogue::all() {
        let CrsKind::Projected(Projection::GaussKruger(p)) = crs.kind() else { continue };
        let name = crs.name();
        let six = !name.contains("3-degree");
        let width = if six { 6.0 } else { 3.0 };
        assert_eq!((p.lat0, p.k0, p.y0), (0.0, 1.0, 0.0), "{name}");
        if let Some(zone) = name.split("zone ").nth(1) {
            let zone: f64 = zone.parse().unwrap();
            let lon0 = if six { 6.0 * zone - 3.0 } else { 3.0 * zone };
            assert_eq!(p.lon0, lon0, "{name}");
            assert_eq!(p.x0, zone * 1e6 + 500_000.0, "{name}");
            assert!((if six { 13.0..=23.0 } else { 25.0..=45.0 }).contains(&zone), "{name}");
        } else {
            let cm = name.split("CM ").nth(1).and_then(|s| s.strip_suffix('E')).unwrap();
            assert_eq!(p.lon0, cm.parse::<f64>().unwrap(), "{name}");
            assert_eq!(p.x0, 500_000.0, "{name}");
        }
        // The area of use lies within the zone (the eastern zones are cut by the border, so the
        // central meridian itself may lie outside it, e.g. 135°E). EPSG's boxes overrun the
        // zone edges by up to 0.02° (6° zone 14 starts at 77.98°E, zone 13 ends at 78.01°E).
        let area = crs.area_of_use().unwrap();
        assert!(area.west >= p.lon0 - width / 2.0 - 0.021, "{name}: {area:?}");
        assert!(area.east <= p.lon0 + width / 2.0 + 0.021, "{name}: {area:?}");
        assert!(area.south >= 16.0 && area.north <= 54.0 && area.south < area.north, "{name}");
        checked += 1;
    }
    assert_eq!(checked, 192);
    // A few by hand.
    assert_eq!((gk("EPSG:4547").lon0, gk("EPSG:4547").x0), (114.0, 500_000.0));
    assert_eq!((gk("EPSG:4527").lon0, gk("EPSG:4527").x0), (117.0, 39_500_000.0));
    assert_eq!((gk("EPSG:4498").lon0, gk("EPSG:4498").x0), (117.0, 20_500_000.0));
    assert_eq!((gk("EPSG:2401").lon0, gk("EPSG:2401").x0), (75.0, 25_500_000.0));
    assert_eq!((gk("EPSG:21463").lon0, gk("EPSG:21463").x0), (135.0, 500_000.0));
    assert_eq!((gk("EPSG:2390").lon0, gk("EPSG:2390").x0), (135.0, 500_000.0));
    let area = catalogue::lookup("EPSG:4547").unwrap().area_of_use().unwrap().clone();
    assert_eq!(area.name, "China - onshore between 112°30'E and 115°30'E.");
    assert_eq!((area.west, area.south, area.east, area.north), (112.5, 21.52, 115.5, 45.45));
}

#[test]
fn datums_and_kinds() {
    let kind = |id: &str| catalogue::lookup(id).unwrap().kind().clone();
    assert_eq!(catalogue::lookup("EPSG:4490").unwrap().datum(), &Datum::cgcs2000());
    assert_eq!(catalogue::lookup("EPSG:4214").unwrap().datum(), &Datum::beijing1954());
    assert_eq!(catalogue::lookup("EPSG:4610").unwrap().datum(), &Datum::xian1980());
    assert_eq!(catalogue::lookup("EPSG:3857").unwrap().datum(), &Datum::wgs84());
    assert_eq!(kind("EPSG:4326"), CrsKind::Geographic);
    assert_eq!(kind("EPSG:3857"), CrsKind::Projected(Projection::WebMercator));
    assert!(matches!(kind("GCJ02"), CrsKind::Gcj02 { .. }));
    assert!(matches!(kind("BD09"), CrsKind::Bd09 { .. }));
    assert!(matches!(kind("BD09MC"), CrsKind::Bd09Mc { .. }));
    assert_eq!(catalogue::lookup("GCJ02").unwrap().datum(), &Datum::wgs84());
}

#[test]
fn wkt_of_catalogue_entries_is_gdals() {
    let wkt = |id: &str| catalogue::lookup(id).unwrap().to_wkt().unwrap();
    const CGCS2000: &str = "GEOGCS[\"China Geodetic Coordinate System 2000\",DATUM[\"China_2000\",\
        SPHEROID[\"CGCS2000\",6378137,298.257222101,AUTHORITY[\"EPSG\",\"1024\"]],\
        AUTHORITY[\"EPSG\",\"1043\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],\
        UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],AUTHORITY[\"EPSG\",\"4490\"]]";
    const WGS84: &str = "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,\
        298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],\
        PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,\
        AUTHORITY[\"EPSG\",\"9122\"]],AUTHORITY[\"EPSG\",\"4326\"]]";
    assert_eq!(wkt("EPSG:4490"), CGCS2000);
    assert_eq!(wkt("EPSG:4326"), WGS84);
    assert_eq!(
        wkt("EPSG:4547"),
        format!(
            "PROJCS[\"CGCS2000 / 3-degree Gauss-Kruger CM 114E\",{CGCS2000},\
             PROJECTION[\"Transverse_Mercator\"],PARAMETER[\"latitude_of_origin\",0],\
             PARAMETER[\"central_meridian\",114],PARAMETER[\"scale_factor\",1],\
             PARAMETER[\"false_easting\",500000],PARAMETER[\"false_northing\",0],\
             UNIT[\"metre\",1,AUTHORITY[\"EPSG\",\"9001\"]],AUTHORITY[\"EPSG\",\"4547\"]]"
        )
    );
    assert_eq!(
        wkt("EPSG:2401"),
        "PROJCS[\"Beijing 1954 / 3-degree Gauss-Kruger zone 25\",GEOGCS[\"Beijing 1954\",\
         DATUM[\"Beijing_1954\",SPHEROID[\"Krassowsky 1940\",6378245,298.3,\
         AUTHORITY[\"EPSG\",\"7024\"]],AUTHORITY[\"EPSG\",\"6214\"]],PRIMEM[\"Greenwich\",0,\
         AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,\
         AUTHORITY[\"EPSG\",\"9122\"]],AUTHORITY[\"EPSG\",\"4214\"]],\
         PROJECTION[\"Transverse_Mercator\"],PARAMETER[\"latitude_of_origin\",0],\
         PARAMETER[\"central_meridian\",75],PARAMETER[\"scale_factor\",1],\
         PARAMETER[\"false_easting\",25500000],PARAMETER[\"false_northing\",0],\
         UNIT[\"metre\",1,AUTHORITY[\"EPSG\",\"9001\"]],AUTHORITY[\"EPSG\",\"2401\"]]"
    );
    assert_eq!(
        wkt("EPSG:3857"),
        format!(
            "PROJCS[\"WGS 84 / Pseudo-Mercator\",{WGS84},PROJECTION[\"Mercator_1SP\"],\
             PARAMETER[\"central_meridian\",0],PARAMETER[\"scale_factor\",1],\
             PARAMETER[\"false_easting\",0],PARAMETER[\"false_northing\",0],\
             UNIT[\"metre\",1,AUTHORITY[\"EPSG\",\"9001\"]],AXIS[\"Easting\",EAST],\
             AXIS[\"Northing\",NORTH],EXTENSION[\"PROJ4\",\"+proj=merc +a=6378137 +b=6378137 \
             +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +wktext +no_defs\"],\
             AUTHORITY[\"EPSG\",\"3857\"]]"
        )
    );
    assert!(wkt("EPSG:2345").contains("SPHEROID[\"IAG 1975\",6378140,298.257,"));
}

#[test]
fn proj_strings_of_catalogue_entries() {
    let proj = |id: &str| catalogue::lookup(id).unwrap().to_proj_string().unwrap();
    assert_eq!(
        proj("EPSG:4547"),
        "+proj=tmerc +lat_0=0 +lon_0=114 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"
    );
    assert_eq!(
        proj("EPSG:4527"),
        "+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=39500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"
    );
    assert_eq!(
        proj("EPSG:21460"),
        "+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0 +ellps=krass +units=m +no_defs"
    );
    assert_eq!(
        proj("EPSG:2345"),
        "+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0 +ellps=IAU76 +units=m +no_defs"
    );
    assert_eq!(proj("EPSG:4326"), "+proj=longlat +datum=WGS84 +no_defs");
    assert_eq!(proj("EPSG:4490"), "+proj=longlat +ellps=GRS80 +no_defs");
    assert_eq!(proj("EPSG:4214"), "+proj=longlat +ellps=krass +no_defs");
    assert_eq!(proj("EPSG:4610"), "+proj=longlat +ellps=IAU76 +no_defs");
    assert_eq!(
        proj("EPSG:3857"),
        "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m \
         +nadgrids=@null +wktext +no_defs"
    );
    for crs in catalogue::all() {
        if let Ok(s) = crs.to_proj_string() {
            assert!(!s.contains("towgs84"), "{}: no invented datum shift: {s}", crs.id());
        }
    }
}

fn user_zone(datum: Datum) -> Crs {
    let params = GaussKrugerParams { lon0: 117.0, lat0: 0.0, k0: 1.0, x0: 500_000.0, y0: 0.0 };
    let kind = CrsKind::Projected(Projection::GaussKruger(params));
    Crs::new("CITY", "City grid", datum, kind, None, None).unwrap()
}

fn helmert(convention: HelmertConvention) -> DatumShift {
    DatumShift::Helmert(common::city_helmert(convention))
}

#[test]
fn user_datums_export_towgs84_in_position_vector_convention() {
    let cf =
        Datum::beijing1954().with_shift("bj54-city", helmert(HelmertConvention::CoordinateFrame));
    let pv =
        Datum::beijing1954().with_shift("bj54-city", helmert(HelmertConvention::PositionVector));
    assert_eq!(
        user_zone(cf.clone()).to_proj_string().unwrap(),
        "+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0 +ellps=krass \
         +towgs84=-12.7,131.2,47.6,-0.41,0.16,-1.05,-2.7 +units=m +no_defs"
    );
    assert!(user_zone(pv)
        .to_proj_string()
        .unwrap()
        .contains("+towgs84=-12.7,131.2,47.6,0.41,-0.16,1.05,-2.7 "));
    assert_eq!(
        user_zone(cf).to_wkt().unwrap(),
        "PROJCS[\"City grid\",GEOGCS[\"Beijing 1954\",DATUM[\"Beijing_1954\",\
         SPHEROID[\"Krassowsky 1940\",6378245,298.3,AUTHORITY[\"EPSG\",\"7024\"]],\
         TOWGS84[-12.7,131.2,47.6,-0.41,0.16,-1.05,-2.7]],PRIMEM[\"Greenwich\",0,\
         AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,\
         AUTHORITY[\"EPSG\",\"9122\"]]],PROJECTION[\"Transverse_Mercator\"],\
         PARAMETER[\"latitude_of_origin\",0],PARAMETER[\"central_meridian\",117],\
         PARAMETER[\"scale_factor\",1],PARAMETER[\"false_easting\",500000],\
         PARAMETER[\"false_northing\",0],UNIT[\"metre\",1,AUTHORITY[\"EPSG\",\"9001\"]],\
         AXIS[\"Easting\",EAST],AXIS[\"Northing\",NORTH]]"
    );
    let custom = Ellipsoid::custom("Local \"1970\"", 6_378_200.0, 298.3).unwrap();
    let molodensky = DatumShift::Molodensky(MolodenskyParams {
        dx: 15.0,
        dy: -120.5,
        dz: -60.0,
        abridged: false,
    });
    let local = user_zone(Datum::new("LOCAL", "Local 1970", custom, molodensky));
    assert_eq!(
        local.to_proj_string().unwrap(),
        "+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0 +a=6378200 +rf=298.3 \
         +towgs84=15,-120.5,-60,0,0,0,0 +units=m +no_defs"
    );
    let wkt = local.to_wkt().unwrap();
    assert!(
        wkt.contains(
            "GEOGCS[\"Local 1970\",DATUM[\"Local_1970\",SPHEROID[\"Local \"\"1970\"\"\",6378200,\
             298.3],TOWGS84[15,-120.5,-60,0,0,0,0]],"
        ),
        "{wkt}"
    );
    let nan = Datum::beijing1954()
        .with_shift("bad", DatumShift::Helmert(HelmertParams::translation(f64::NAN, 0.0, 0.0)));
    assert!(matches!(user_zone(nan).to_wkt(), Err(ExportError::NotExpressible { .. })));
}

#[test]
fn web_map_systems_are_not_expressible() {
    for id in ["GCJ02", "BD09", "BD09MC"] {
        let crs = catalogue::lookup(id).unwrap();
        for result in [crs.to_wkt(), crs.to_proj_string()] {
            match result {
                Err(ExportError::NotExpressible { id: got, reason, .. }) => {
                    assert_eq!(got, id);
                    assert!(reason.contains("WGS84"), "{reason}");
                }
                other => panic!("{id}: {other:?}"),
            }
        }
    }
}

#[test]
fn beijing1954_and_xian1980_have_no_shift_to_cgcs2000() {
    for (from, to) in [
        ("EPSG:4214", "EPSG:4490"),
        ("BJ54", "CGCS2000"),
        ("EPSG:2436", "EPSG:4548"),
        ("EPSG:4610", "EPSG:4326"),
        ("EPSG:4214", "EPSG:4610"),
        ("EPSG:2345", "GCJ02"),
    ] {
        match Transformer::from_ids(from, to) {
            Err(BuildError::MissingDatumShift { .. }) => {}
            other => panic!("{from} -> {to}: {other:?}"),
        }
    }
    // Within one datum there is nothing to miss.
    assert!(Transformer::from_ids("EPSG:2401", "EPSG:21460").is_ok());
    assert!(Transformer::from_ids("XIAN80", "EPSG:2345").is_ok());
}
