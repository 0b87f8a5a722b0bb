//! gu_transform through DataFusion SQL on Parquet files written here.
//!
//! References: PROJ 9.6.2's vectors committed in the core crate's `tests/data/` (city grid →
//! EPSG:4548 from `crs_file_vectors.csv`, EPSG:4490 → EPSG:4547 from `proj_vectors.csv`),
//! within 1 µm (1e-6 m) as the core's own vector tests; and the core `Transformer`, which the
//! UDF must match bit for bit.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BinaryArray, BinaryViewArray, Float64Array, Int64Array, LargeBinaryArray,
    RecordBatch, StructArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::physical_plan::ExecutionPlanProperties;
use datafusion::prelude::{SessionConfig, SessionContext};
use geounify::{Registry, Transformer};
use geounify_datafusion::{register_geounify, GeounifyOptions};

const METRES: f64 = 1e-6;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn city_toml() -> PathBuf {
    repo_root().join("data/crs/city.toml")
}

fn wkb_point(x: f64, y: f64) -> Vec<u8> {
    let mut b = vec![1u8];
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&x.to_le_bytes());
    b.extend_from_slice(&y.to_le_bytes());
    b
}

fn wkb_linestring(points: &[(f64, f64)]) -> Vec<u8> {
    let mut b = vec![1u8];
    b.extend_from_slice(&2u32.to_le_bytes());
    b.extend_from_slice(&(points.len() as u32).to_le_bytes());
    for (x, y) in points {
        b.extend_from_slice(&x.to_le_bytes());
        b.extend_from_slice(&y.to_le_bytes());
    }
    b
}

/// The x, y of a little-endian WKB point.
fn point_of(wkb: &[u8]) -> (f64, f64) {
    assert_eq!(wkb.len(), 21, "not a 2D WKB point");
    assert_eq!(&wkb[..5], &[1, 1, 0, 0, 0]);
    let x = f64::from_le_bytes(wkb[5..13].try_into().unwrap());
    let y = f64::from_le_bytes(wkb[13..21].try_into().unwrap());
    (x, y)
}

/// Rows `source,target,x_in,y_in,x_out,y_out` of a vector file (the proj_vectors file has a
/// leading kind column).
fn vectors(file: &str, source: &str, target: &str) -> Vec<[f64; 4]> {
    let text = std::fs::read_to_string(repo_root().join("tests/data").join(file)).unwrap();
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split(',').collect();
        let f = if f.len() == 7 { &f[1..] } else { &f[..] };
        if f.len() == 6 && f[0] == source && f[1] == target {
            let n: Vec<f64> = f[2..].iter().map(|v| v.parse().unwrap()).collect();
            out.push([n[0], n[1], n[2], n[3]]);
        }
    }
    assert!(!out.is_empty(), "no {source} -> {target} vectors in {file}");
    out
}

/// Writes `id`, `geom` (WKB, Binary, or NULL) to a Parquet file in row groups of `group` rows.
fn write_parquet(path: &Path, geoms: &[Option<Vec<u8>>], group: usize) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("geom", DataType::Binary, true),
    ]));
    let ids = Int64Array::from_iter_values(0..geoms.len() as i64);
    let g = BinaryArray::from_iter(geoms.iter().map(|g| g.as_deref()));
    let batch =
        RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(ids), Arc::new(g)]).unwrap();
    let props = WriterProperties::builder().set_max_row_group_row_count(Some(group)).build();
    let file = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(file, schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// A session with `target_partitions` partitions that splits even small files into that many
/// scans, with `FROM 'file.parquet'` enabled and geounify registered with city.toml.
fn session(partitions: usize) -> SessionContext {
    let config = SessionConfig::new()
        .with_target_partitions(partitions)
        .with_batch_size(1000)
        .set_usize("datafusion.optimizer.repartition_file_min_size", 1);
    let ctx = SessionContext::new_with_config(config).enable_url_table();
    register_geounify(&ctx, &GeounifyOptions::new().crs_file(city_toml())).unwrap();
    ctx
}

/// Runs `sql` and returns (id, geom bytes or None) ordered by id.
async fn rows(ctx: &SessionContext, sql: &str) -> Vec<(i64, Option<Vec<u8>>)> {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let mut out = Vec::new();
    for b in &batches {
        let ids = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        // Parquet's binary columns come back as BinaryView (DataFusion's default).
        let g = datafusion::arrow::compute::cast(b.column(1), &DataType::Binary).unwrap();
        let g = g.as_any().downcast_ref::<BinaryArray>().unwrap();
        for i in 0..b.num_rows() {
            out.push((ids.value(i), g.is_valid(i).then(|| g.value(i).to_vec())));
        }
    }
    out.sort_by_key(|r| r.0);
    out
}

async fn error_of(ctx: &SessionContext, sql: &str) -> String {
    match ctx.sql(sql).await {
        Err(e) => e.to_string(),
        Ok(df) => match df.collect().await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{sql} succeeded"),
        },
    }
}

/// The issue's example query: a city grid to EPSG:4548 on a Parquet file, against PROJ's
/// vectors (1 µm) and the core Transformer (bit for bit), identical at 1, 2 and 8 partitions.
#[tokio::test]
async fn example_query_matches_proj_and_core_at_any_partitioning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parcels.parquet");
    let refs = vectors("crs_file_vectors.csv", "city:old-grid", "EPSG:4548");
    // The 25 PROJ points, then a spread of points around them (so the file has many row
    // groups and partitions), with a NULL row every 97.
    let mut inputs = Vec::new();
    for i in 0..5000usize {
        let r = refs[i % refs.len()];
        if i % 97 == 50 {
            inputs.push(None);
        } else {
            let d = (i / refs.len()) as f64 * 3.25;
            inputs.push(Some((r[0] + d, r[1] - d)));
        }
    }
    let geoms: Vec<Option<Vec<u8>>> =
        inputs.iter().map(|p| p.map(|(x, y)| wkb_point(x, y))).collect();
    write_parquet(&path, &geoms, 300);

    let sql = format!(
        "SELECT id, gu_transform(geom, 'city:old-grid', 'EPSG:4548') FROM '{}'",
        path.display()
    );
    let mut registry = Registry::new();
    registry.load_file(city_toml()).unwrap();
    let core: Transformer = registry.transformer("city:old-grid", "EPSG:4548").unwrap();

    let one = rows(&session(1), &sql).await;
    assert_eq!(one.len(), inputs.len());
    for ((id, got), input) in one.iter().zip(&inputs) {
        match (got, input) {
            (None, None) => {}
            (Some(wkb), Some((x, y))) => {
                let (gx, gy) = point_of(wkb);
                let (cx, cy) = core.transform_xy(*x, *y).unwrap();
                assert_eq!((gx.to_bits(), gy.to_bits()), (cx.to_bits(), cy.to_bits()), "row {id}");
            }
            _ => panic!("row {id}: NULL not kept"),
        }
    }
    for (i, r) in refs.iter().enumerate() {
        let (x, y) = point_of(one[i].1.as_ref().unwrap());
        assert!(
            (x - r[2]).abs() <= METRES && (y - r[3]).abs() <= METRES,
            "row {i}: ({x}, {y}) vs PROJ ({}, {})",
            r[2],
            r[3]
        );
    }
    for partitions in [2, 8] {
        let ctx = session(partitions);
        let plan = ctx.sql(&sql).await.unwrap().create_physical_plan().await.unwrap();
        assert_eq!(
            plan.output_partitioning().partition_count(),
            partitions,
            "the scan is not split into {partitions} partitions"
        );
        assert_eq!(rows(&ctx, &sql).await, one, "{partitions} partitions");
    }
}

/// EPSG:4490 → EPSG:4547 against PROJ's vectors, in each binary type and as GeoArrow points.
#[tokio::test]
async fn epsg_pair_in_every_array_type_matches_proj() {
    let refs = vectors("proj_vectors.csv", "EPSG:4490", "EPSG:4547");
    let ctx = session(2);
    let wkbs: Vec<Vec<u8>> = refs.iter().map(|r| wkb_point(r[0], r[1])).collect();
    let plain = BinaryArray::from_iter_values(wkbs.iter());
    let large = LargeBinaryArray::from_iter_values(wkbs.iter());
    let view = BinaryViewArray::from_iter_values(wkbs.iter());
    let xy_fields = Fields::from(vec![
        Field::new("x", DataType::Float64, false),
        Field::new("y", DataType::Float64, false),
    ]);
    let xs = Float64Array::from_iter_values(refs.iter().map(|r| r[0]));
    let ys = Float64Array::from_iter_values(refs.iter().map(|r| r[1]));
    let points =
        StructArray::new(xy_fields.clone(), vec![Arc::new(xs) as ArrayRef, Arc::new(ys)], None);
    let point_field = Field::new("pt", DataType::Struct(xy_fields), true)
        .with_metadata([("ARROW:extension:name".to_string(), "geoarrow.point".to_string())].into());
    let schema = Arc::new(Schema::new(vec![
        Field::new("plain", DataType::Binary, false),
        Field::new("large", DataType::LargeBinary, false),
        Field::new("view", DataType::BinaryView, false),
        point_field,
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![Arc::new(plain), Arc::new(large), Arc::new(view), Arc::new(points)],
    )
    .unwrap();
    ctx.register_batch("t", batch).unwrap();
    let out = ctx
        .sql(
            "SELECT gu_transform(plain, 'EPSG:4490', 'EPSG:4547') AS a, \
                    gu_transform(large, 'EPSG:4490', 'EPSG:4547') AS b, \
                    gu_transform(view, 'EPSG:4490', 'EPSG:4547') AS c, \
                    gu_transform(pt, 'EPSG:4490', 'EPSG:4547') AS d FROM t",
        )
        .await
        .unwrap();
    let schema = out.schema().clone();
    let batches = out.collect().await.unwrap();
    let b = datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
    let a = b.column(0).as_any().downcast_ref::<BinaryArray>().unwrap();
    let l = b.column(1).as_any().downcast_ref::<LargeBinaryArray>().unwrap();
    let v = b.column(2).as_any().downcast_ref::<BinaryViewArray>().unwrap();
    let p = b.column(3).as_any().downcast_ref::<StructArray>().unwrap();
    let px = p.column(0).as_any().downcast_ref::<Float64Array>().unwrap();
    let py = p.column(1).as_any().downcast_ref::<Float64Array>().unwrap();
    for (i, r) in refs.iter().enumerate() {
        let (x, y) = point_of(a.value(i));
        assert!((x - r[2]).abs() <= METRES && (y - r[3]).abs() <= METRES, "row {i}");
        assert_eq!(a.value(i), l.value(i));
        assert_eq!(a.value(i), v.value(i));
        assert_eq!((px.value(i).to_bits(), py.value(i).to_bits()), (x.to_bits(), y.to_bits()));
    }
    // The output field says what it holds: WKB (set on a plain binary input, kept on a
    // GeoArrow one) in EPSG:4547.
    let meta = schema.field(0).metadata();
    assert_eq!(meta["ARROW:extension:name"], "geoarrow.wkb");
    assert_eq!(
        meta["ARROW:extension:metadata"],
        r#"{"crs":"EPSG:4547","crs_type":"authority_code"}"#
    );
    assert_eq!(schema.field(3).metadata()["ARROW:extension:name"], "geoarrow.point");
}

/// A line string keeps its vertex count; each vertex matches the core transformer.
#[tokio::test]
async fn linestrings_and_literals() {
    let ctx = session(1);
    let core = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
    let line = [(114.5, 31.25), (114.75, 31.5), (115.0, 32.0)];
    let wkb = wkb_linestring(&line);
    let hex: String = wkb.iter().map(|b| format!("{b:02X}")).collect();
    let sql = format!("SELECT gu_transform(X'{hex}', 'EPSG:4490', 'EPSG:4547')");
    let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
    let g = batches[0].column(0).as_any().downcast_ref::<BinaryArray>().unwrap();
    let out = g.value(0);
    assert_eq!(out.len(), wkb.len());
    assert_eq!(&out[..9], &wkb[..9]);
    for (k, (x, y)) in line.iter().enumerate() {
        let at = 9 + 16 * k;
        let gx = f64::from_le_bytes(out[at..at + 8].try_into().unwrap());
        let gy = f64::from_le_bytes(out[at + 8..at + 16].try_into().unwrap());
        let (cx, cy) = core.transform_xy(*x, *y).unwrap();
        assert_eq!((gx.to_bits(), gy.to_bits()), (cx.to_bits(), cy.to_bits()));
    }
}

/// Malformed WKB: gu_transform fails the query naming the row, gu_try_transform gives NULL
/// for that row and converts the others.
#[tokio::test]
async fn malformed_wkb_fails_or_becomes_null() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.parquet");
    let geoms = vec![
        Some(wkb_point(114.5, 31.25)),
        Some(vec![1, 1, 0, 0, 0, 1, 2, 3]), // truncated point
        None,
        Some(wkb_point(114.75, 31.5)),
    ];
    write_parquet(&path, &geoms, 100);
    let ctx = session(1);
    let err = error_of(
        &ctx,
        &format!(
            "SELECT id, gu_transform(geom, 'EPSG:4490', 'EPSG:4547') FROM '{}'",
            path.display()
        ),
    )
    .await;
    assert!(err.contains("gu_transform(EPSG:4490 → EPSG:4547): row 1"), "{err}");
    let got = rows(
        &ctx,
        &format!(
            "SELECT id, gu_try_transform(geom, 'EPSG:4490', 'EPSG:4547') FROM '{}'",
            path.display()
        ),
    )
    .await;
    let core = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
    assert_eq!(got.len(), 4);
    assert!(got[1].1.is_none() && got[2].1.is_none());
    let (x, y) = point_of(got[3].1.as_ref().unwrap());
    assert_eq!((x, y), core.transform_xy(114.75, 31.5).unwrap());
}

/// A point that fails: gu_transform's message gives the point as read (the batch's row number
/// alone does not locate it in the table) and how to list every failed row.
#[tokio::test]
async fn a_failed_point_is_named_by_its_coordinates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("far.parquet");
    let geoms = vec![Some(wkb_point(114.5, 31.25)), None, Some(wkb_point(114.5, 95.0))];
    write_parquet(&path, &geoms, 100);
    let ctx = session(1);
    let sql = |f: &str| {
        format!("SELECT id, {f}(geom, 'EPSG:4490', 'EPSG:4547') FROM '{}'", path.display())
    };
    let err = error_of(&ctx, &sql("gu_transform")).await;
    assert!(
        err.contains(
            "gu_transform(EPSG:4490 → EPSG:4547): row 2 of a batch of 3 cannot be converted: \
             point 0: latitude 95° is beyond ±90° (the point read was 114.5 95); \
             gu_try_transform gives NULL for such rows"
        ),
        "{err}"
    );
    let got = rows(&ctx, &sql("gu_try_transform")).await;
    assert_eq!(got.iter().map(|r| r.1.is_some()).collect::<Vec<_>>(), [true, false, false]);
}

/// An unknown id fails at planning, naming the id; non-literal CRS arguments and wrong
/// geometry types are refused with a reason.
#[tokio::test]
async fn unknown_ids_and_wrong_arguments() {
    let ctx = session(1);
    ctx.sql(
        "CREATE TABLE t AS VALUES (X'0101000000000000000000F03F0000000000000040', 'EPSG:4490', 1)",
    )
    .await
    .unwrap();
    let err =
        error_of(&ctx, "SELECT gu_transform(column1, 'city:no-such-grid', 'EPSG:4548') FROM t")
            .await;
    assert!(err.contains("city:no-such-grid"), "{err}");
    let err =
        error_of(&ctx, "SELECT gu_transform(column1, 'EPSG:4490', 'EPSG:99999') FROM t").await;
    assert!(err.contains("EPSG:99999"), "{err}");
    let err = error_of(&ctx, "SELECT gu_transform(column1, column2, 'EPSG:4547') FROM t").await;
    assert!(err.contains("string literal"), "{err}");
    let err = error_of(&ctx, "SELECT gu_transform(column3, 'EPSG:4490', 'EPSG:4547') FROM t").await;
    assert!(err.contains("WKB"), "{err}");
    // st_transform only when asked.
    let err = error_of(&ctx, "SELECT st_transform(column1, 'EPSG:4490', 'EPSG:4547') FROM t").await;
    assert!(err.to_lowercase().contains("st_transform"), "{err}");
    let ctx2 = SessionContext::new();
    register_geounify(&ctx2, &GeounifyOptions::new().st_transform_alias(true)).unwrap();
    let b = ctx2
        .sql("SELECT st_transform(X'0101000000000000000000F03F0000000000000040', 'EPSG:4326', 'EPSG:4490')")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(b[0].num_rows(), 1);
}

/// A missing or malformed CRS file fails registration with the file named.
#[test]
fn bad_crs_files_are_refused() {
    let ctx = SessionContext::new();
    let err = register_geounify(&ctx, &GeounifyOptions::new().crs_file("/nonexistent/city.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/city.toml"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[crs]]\nid = 3\n").unwrap();
    let err =
        register_geounify(&ctx, &GeounifyOptions::new().crs_file(&bad)).unwrap_err().to_string();
    assert!(err.contains("bad.toml"), "{err}");
}

/// A CRS file under a Chinese name, and an empty Parquet file (no rows: no output, no error).
#[tokio::test]
async fn chinese_file_name_and_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let crs = dir.path().join("城市坐标系.toml");
    std::fs::copy(city_toml(), &crs).unwrap();
    let ctx = SessionContext::new().enable_url_table();
    let state = register_geounify(&ctx, &GeounifyOptions::new().crs_file(&crs)).unwrap();
    assert_eq!(state.manifest().files[0].path, crs);
    let empty = dir.path().join("空.parquet");
    write_parquet(&empty, &[], 10);
    let got = rows(
        &ctx,
        &format!(
            "SELECT id, gu_transform(geom, 'city:old-grid', 'EPSG:4548') FROM '{}'",
            empty.display()
        ),
    )
    .await;
    assert!(got.is_empty());
}
