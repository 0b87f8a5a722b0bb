//! The Arrow kernel (`geounify::arrow`): WKB and GeoArrow native arrays converted through the
//! batch path give, bit for bit, what `Transformer::transform` gives point by point (itself
//! checked against PROJ in `proj_vectors.rs` / `proj_differential.rs`), with offsets, nulls
//! and fields kept and failed rows NULL and listed.
#![cfg(feature = "arrow")]

use arrow_array::builder::{BinaryViewBuilder, Float64Builder};
use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{
    Array, ArrayRef, BinaryArray, FixedSizeListArray, Float64Array, LargeBinaryArray,
    LargeListArray, ListArray, StructArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Fields};
use geounify::arrow::{transform_array, Encoding, RowError};
use geounify::Transformer;
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

/// A WKB geometry: type code (ISO, + 1000 for z) and its coordinate runs (a point: one run of
/// one tuple; a line: one run; a polygon: one run per ring).
fn wkb(little: bool, code: u32, rings: &[Vec<[f64; 3]>], z: bool) -> Vec<u8> {
    let mut b = vec![u8::from(little)];
    let u32b = |v: u32| if little { v.to_le_bytes() } else { v.to_be_bytes() };
    let f64b = |v: f64| if little { v.to_le_bytes() } else { v.to_be_bytes() };
    b.extend(u32b(code + if z { 1000 } else { 0 }));
    let tuple = |b: &mut Vec<u8>, p: &[f64; 3]| {
        b.extend(f64b(p[0]));
        b.extend(f64b(p[1]));
        if z {
            b.extend(f64b(p[2]));
        }
    };
    match code {
        1 => tuple(&mut b, &rings[0][0]),
        2 => {
            b.extend(u32b(rings[0].len() as u32));
            rings[0].iter().for_each(|p| tuple(&mut b, p));
        }
        3 => {
            b.extend(u32b(rings.len() as u32));
            for r in rings {
                b.extend(u32b(r.len() as u32));
                r.iter().for_each(|p| tuple(&mut b, p));
            }
        }
        _ => unreachable!(),
    }
    b
}

/// Reads the coordinates back from WKB written by `wkb`.
fn read_wkb(b: &[u8]) -> Vec<[f64; 3]> {
    let mut out = Vec::new();
    geounify::wkb::coordinates(b, usize::MAX, &mut out).unwrap();
    out
}

fn t_4490_4548() -> Transformer {
    Transformer::from_ids("EPSG:4490", "EPSG:4548").unwrap()
}

fn expected(t: &Transformer, p: [f64; 3]) -> [f64; 3] {
    t.transform(p).unwrap()
}

#[test]
fn wkb_binary_rows_match_the_one_point_transform_bit_for_bit_and_keep_nulls() {
    let t = t_4490_4548();
    let rows: Vec<Option<Vec<u8>>> = vec![
        Some(wkb(true, 1, &[vec![[116.404, 39.915, 0.0]]], false)),
        None,
        Some(wkb(false, 2, &[vec![[116.0, 39.0, 12.5], [117.5, 40.25, -3.0]]], true)),
        Some(wkb(
            true,
            3,
            &[
                vec![
                    [116.0, 39.0, 0.0],
                    [117.0, 39.0, 0.0],
                    [117.0, 40.0, 0.0],
                    [116.0, 39.0, 0.0],
                ],
                vec![
                    [116.2, 39.2, 0.0],
                    [116.4, 39.2, 0.0],
                    [116.2, 39.4, 0.0],
                    [116.2, 39.2, 0.0],
                ],
            ],
            false,
        )),
    ];
    let array = BinaryArray::from(rows.iter().map(|r| r.as_deref()).collect::<Vec<_>>());
    let out = transform_array(&t, &array, Encoding::Wkb).unwrap();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    let got = out.array.as_binary::<i32>();
    assert_eq!(got.len(), 4);
    assert!(got.is_null(1) && got.null_count() == 1);
    // Offsets (lengths) kept; bytes other than coordinates kept.
    assert_eq!(got.offsets(), array.offsets());
    for (i, row) in rows.iter().enumerate() {
        let Some(row) = row else { continue };
        let new = got.value(i);
        assert_eq!(new.len(), row.len());
        assert_eq!(new[..5], row[..5], "byte order and type code of row {i}");
        let want: Vec<[f64; 3]> = read_wkb(row).into_iter().map(|p| expected(&t, p)).collect();
        let has_z = i == 2;
        for (g, w) in read_wkb(new).iter().zip(&want) {
            assert_eq!(g[0].to_bits(), w[0].to_bits());
            assert_eq!(g[1].to_bits(), w[1].to_bits());
            if has_z {
                // Between two 2D CRSs a z is an elevation: copied unchanged.
                assert_eq!(g[2].to_bits(), w[2].to_bits());
            }
        }
    }
    // PROJ 9 (cs2cs EPSG:4490 EPSG:4548; CGCS2000 = GRS80): 449042.047441, 4420261.219997.
    let p = read_wkb(got.value(0))[0];
    assert!((p[0] - 449_042.047_441).abs() < 1e-6 && (p[1] - 4_420_261.219_997).abs() < 1e-6);
    // The z values of row 2 are elevations, unchanged.
    let z: Vec<f64> = read_wkb(got.value(2)).iter().map(|p| p[2]).collect();
    assert_eq!(z, [12.5, -3.0]);
    // The envelope covers every converted coordinate (z from row 2).
    let all: Vec<[f64; 3]> = [0usize, 2, 3].iter().flat_map(|&i| read_wkb(got.value(i))).collect();
    let min_x = all.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min);
    let max_y = all.iter().map(|p| p[1]).fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(out.envelope.x.unwrap().0, min_x);
    assert_eq!(out.envelope.y.unwrap().1, max_y);
    assert_eq!(out.envelope.z, Some((-3.0, 12.5)));
}

#[test]
fn large_binary_binary_view_and_sliced_arrays_give_the_same_values() {
    let t = t_4490_4548();
    let rows: Vec<Option<Vec<u8>>> = (0..50)
        .map(|i| {
            (i % 7 != 3).then(|| {
                let line: Vec<[f64; 3]> =
                    (0..i % 5 + 1).map(|k| [115.0 + 0.01 * (i + k) as f64, 39.5, 0.0]).collect();
                wkb(i % 2 == 0, 2, &[line], false)
            })
        })
        .collect();
    let refs: Vec<Option<&[u8]>> = rows.iter().map(|r| r.as_deref()).collect();
    let binary = BinaryArray::from(refs.clone());
    let want = transform_array(&t, &binary, Encoding::Wkb).unwrap();
    let want = want.array.as_binary::<i32>();

    let large = LargeBinaryArray::from(refs.clone());
    let got = transform_array(&t, &large, Encoding::Wkb).unwrap();
    assert_eq!(got.array.data_type(), &DataType::LargeBinary);
    let got = got.array.as_binary::<i64>();
    let mut view = BinaryViewBuilder::new();
    refs.iter().for_each(|r| view.append_option(*r));
    let view = view.finish();
    let got_view = transform_array(&t, &view, Encoding::Wkb).unwrap();
    let got_view = got_view.array.as_binary_view();
    for i in 0..rows.len() {
        assert_eq!(got.is_null(i), want.is_null(i));
        assert_eq!(got_view.is_null(i), want.is_null(i));
        if want.is_valid(i) {
            assert_eq!(got.value(i), want.value(i));
            assert_eq!(got_view.value(i), want.value(i));
        }
    }
    // A slice (offsets not starting at 0) converts its own rows.
    let sliced = binary.slice(11, 20);
    let got = transform_array(&t, &sliced, Encoding::Wkb).unwrap();
    let got = got.array.as_binary::<i32>();
    assert_eq!(got.len(), 20);
    for i in 0..20 {
        assert_eq!(got.is_null(i), want.is_null(11 + i));
        if got.is_valid(i) {
            assert_eq!(got.value(i), want.value(11 + i));
        }
    }
}

#[test]
fn a_failing_row_becomes_null_and_is_listed_with_its_vertex_the_others_convert() {
    let t = t_4490_4548();
    let rows = [
        Some(wkb(true, 2, &[vec![[116.0, 39.0, 0.0], [116.0, 95.0, 0.0]]], false)), // latitude 95
        Some(vec![1u8, 2, 0, 0, 0, 9, 9]),                                          // truncated
        Some(wkb(true, 1, &[vec![[116.404, 39.915, 0.0]]], false)),
        None,
    ];
    let array = BinaryArray::from(rows.iter().map(|r| r.as_deref()).collect::<Vec<_>>());
    let out = transform_array(&t, &array, Encoding::Wkb).unwrap();
    assert_eq!(out.failures.len(), 2, "{:?}", out.failures);
    assert_eq!(out.failures[0].row, 0);
    assert!(
        matches!(out.failures[0].reason, RowError::Point { vertex: 1, .. }),
        "{}",
        out.failures[0]
    );
    assert!(out.failures[0].to_string().starts_with("row 0: point 1: "), "{}", out.failures[0]);
    assert_eq!(out.failures[1].row, 1);
    assert!(matches!(out.failures[1].reason, RowError::Wkb(_)));
    let got = out.array.as_binary::<i32>();
    assert!(got.is_null(0) && got.is_null(1) && got.is_valid(2) && got.is_null(3));
    let p = read_wkb(got.value(2))[0];
    assert!((p[0] - 449_042.047_441).abs() < 1e-6);
    // The envelope is the one row that converted.
    assert_eq!(out.envelope.x, Some((p[0], p[0])));
}

fn separated(points: &[[f64; 3]], z: bool) -> StructArray {
    let mut fields =
        vec![Field::new("x", DataType::Float64, false), Field::new("y", DataType::Float64, false)];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from(points.iter().map(|p| p[0]).collect::<Vec<_>>())),
        Arc::new(Float64Array::from(points.iter().map(|p| p[1]).collect::<Vec<_>>())),
    ];
    if z {
        fields.push(Field::new("z", DataType::Float64, false));
        columns.push(Arc::new(Float64Array::from(points.iter().map(|p| p[2]).collect::<Vec<_>>())));
    }
    StructArray::new(Fields::from(fields), columns, None)
}

fn interleaved(points: &[[f64; 3]], z: bool) -> FixedSizeListArray {
    let dim = if z { 3 } else { 2 };
    let mut values = Float64Builder::new();
    for p in points {
        values.append_slice(&p[..dim]);
    }
    let name = if z { "xyz" } else { "xy" };
    FixedSizeListArray::new(
        Arc::new(Field::new(name, DataType::Float64, false)),
        dim as i32,
        Arc::new(values.finish()),
        None,
    )
}

/// The coordinates of a separated or interleaved coordinate array.
fn coords(array: &dyn Array) -> Vec<[f64; 3]> {
    if let Some(s) = array.as_struct_opt() {
        let c = |n: &str| {
            s.column_by_name(n).map(|c| c.as_primitive::<Float64Type>().values().to_vec())
        };
        let (x, y, z) = (c("x").unwrap(), c("y").unwrap(), c("z"));
        return (0..x.len()).map(|i| [x[i], y[i], z.as_ref().map_or(0.0, |z| z[i])]).collect();
    }
    let l = array.as_fixed_size_list();
    let size = l.value_length() as usize;
    let v = l.values().as_primitive::<Float64Type>().values();
    v.chunks(size).map(|c| [c[0], c[1], if size > 2 { c[2] } else { 0.0 }]).collect()
}

#[test]
fn native_points_separated_and_interleaved_with_z_nulls_and_empty_points() {
    let t = t_4490_4548();
    let pts = [
        [116.404, 39.915, 44.0],
        [f64::NAN, f64::NAN, f64::NAN],
        [117.9, 41.2, -1.5],
        [116.1, 95.0, 0.0],
    ];
    for z in [false, true] {
        let nulls = NullBuffer::from(vec![true, true, true, true]);
        let inputs: Vec<ArrayRef> = vec![
            {
                let s = separated(&pts, z);
                let (f, c, _) = s.into_parts();
                Arc::new(StructArray::new(f, c, Some(nulls.clone())))
            },
            {
                let l = interleaved(&pts, z);
                let (f, size, v, _) = l.into_parts();
                Arc::new(FixedSizeListArray::new(f, size, v, Some(nulls.clone())))
            },
        ];
        for input in inputs {
            let out = transform_array(&t, input.as_ref(), Encoding::Point).unwrap();
            assert_eq!(out.array.data_type(), input.data_type());
            // The fourth point (latitude 95) fails: its row is NULL and listed.
            assert_eq!(out.failures.len(), 1);
            assert_eq!(out.failures[0].row, 3);
            assert!(matches!(out.failures[0].reason, RowError::Point { vertex: 0, .. }));
            assert!(out.array.is_null(3) && out.array.null_count() == 1);
            let got = coords(out.array.as_ref());
            for i in [0, 2] {
                let w = expected(&t, [pts[i][0], pts[i][1], if z { pts[i][2] } else { 0.0 }]);
                assert_eq!(got[i][0].to_bits(), w[0].to_bits());
                assert_eq!(got[i][1].to_bits(), w[1].to_bits());
                if z {
                    assert_eq!(got[i][2], pts[i][2], "an elevation is copied unchanged");
                }
            }
            // The empty point stays NaN, valid, and not a failure.
            assert!(got[1][0].is_nan() && got[1][1].is_nan() && out.array.is_valid(1));
            assert_eq!(out.envelope.z.is_some(), z);
        }
    }
}

#[test]
fn native_lines_polygons_and_multipolygons_keep_their_offsets_and_nulls() {
    let t = t_4490_4548();
    // Three polygons' rings' coordinates: row 0 two rings, row 1 NULL (no rings), row 2 one ring.
    let pts: Vec<[f64; 3]> =
        (0..12).map(|i| [115.5 + 0.1 * i as f64, 39.0 + 0.05 * i as f64, 0.0]).collect();
    let coords_array: ArrayRef = Arc::new(interleaved(&pts, false));
    let ring_field = Arc::new(Field::new("vertices", coords_array.data_type().clone(), false));
    let rings = ListArray::new(
        ring_field,
        OffsetBuffer::new(ScalarBuffer::from(vec![0i32, 4, 8, 12])),
        coords_array,
        None,
    );
    let poly_field = Arc::new(Field::new("rings", rings.data_type().clone(), false));
    let polygons = ListArray::new(
        poly_field.clone(),
        OffsetBuffer::new(ScalarBuffer::from(vec![0i32, 2, 2, 3])),
        Arc::new(rings),
        Some(NullBuffer::from(vec![true, false, true])),
    );
    let out = transform_array(&t, &polygons, Encoding::Polygon).unwrap();
    assert!(out.failures.is_empty());
    let got = out.array.as_list::<i32>();
    assert_eq!(got.offsets(), polygons.offsets());
    assert_eq!(got.nulls(), polygons.nulls());
    let got_rings = got.values().as_list::<i32>();
    assert_eq!(got_rings.offsets(), polygons.values().as_list::<i32>().offsets());
    let c = coords(got_rings.values().as_ref());
    for (g, p) in c.iter().zip(&pts) {
        let w = expected(&t, *p);
        assert_eq!((g[0].to_bits(), g[1].to_bits()), (w[0].to_bits(), w[1].to_bits()));
    }
    // A failing vertex (index 6: row 0's second ring, third vertex) fails row 0 only.
    let mut bad = pts.clone();
    bad[6][1] = 91.0;
    let coords_array: ArrayRef = Arc::new(separated(&bad, false));
    let ring_field = Arc::new(Field::new("vertices", coords_array.data_type().clone(), false));
    let rings = LargeListArray::new(
        ring_field,
        OffsetBuffer::new(ScalarBuffer::from(vec![0i64, 4, 8, 12])),
        coords_array,
        None,
    );
    let poly_field = Arc::new(Field::new("rings", rings.data_type().clone(), false));
    let polygons = LargeListArray::new(
        poly_field,
        OffsetBuffer::new(ScalarBuffer::from(vec![0i64, 2, 3])),
        Arc::new(rings),
        None,
    );
    let mp_field = Arc::new(Field::new("polygons", polygons.data_type().clone(), false));
    let multi = LargeListArray::new(
        mp_field,
        OffsetBuffer::new(ScalarBuffer::from(vec![0i64, 1, 2])),
        Arc::new(polygons),
        None,
    );
    let out = transform_array(&t, &multi, Encoding::MultiPolygon).unwrap();
    assert_eq!(out.failures.len(), 1);
    assert_eq!(out.failures[0].row, 0);
    assert!(
        matches!(out.failures[0].reason, RowError::Point { vertex: 6, .. }),
        "{}",
        out.failures[0]
    );
    assert!(out.array.is_null(0) && out.array.is_valid(1));
    // The envelope is row 1's (vertices 8..12).
    let last = expected(&t, pts[11]);
    assert_eq!(out.envelope.y.unwrap().1, last[1]);
}

#[test]
fn the_wrong_array_type_is_a_clear_error_and_fields_name_their_encoding() {
    let t = t_4490_4548();
    let floats = Float64Array::from(vec![1.0, 2.0]);
    let e = transform_array(&t, &floats, Encoding::Wkb).unwrap_err();
    assert_eq!(e.to_string(), "a geoarrow.wkb column cannot be a Float64 array: WKB needs Binary, LargeBinary or BinaryView");
    let e = transform_array(&t, &floats, Encoding::LineString).unwrap_err();
    assert!(e.to_string().contains("expected a List or LargeList level"), "{e}");
    let e = transform_array(&t, &floats, Encoding::Point).unwrap_err();
    assert!(e.to_string().contains("Struct or a FixedSizeList"), "{e}");

    let ext = |name: &str, dt: DataType| {
        Field::new("g", dt, true)
            .with_metadata(HashMap::from([("ARROW:extension:name".to_string(), name.to_string())]))
    };
    assert_eq!(Encoding::of_field(&Field::new("g", DataType::Binary, true)), Some(Encoding::Wkb));
    assert_eq!(
        Encoding::of_field(&Field::new("g", DataType::BinaryView, true)),
        Some(Encoding::Wkb)
    );
    assert_eq!(Encoding::of_field(&Field::new("g", DataType::Utf8, true)), None);
    assert_eq!(
        Encoding::of_field(&ext("geoarrow.polygon", DataType::Null)),
        Some(Encoding::Polygon)
    );
    assert_eq!(Encoding::of_field(&ext("geoarrow.wkt", DataType::Utf8)), None);
    for e in [Encoding::Wkb, Encoding::Point, Encoding::MultiLineString] {
        assert_eq!(Encoding::from_extension_name(e.extension_name()), Some(e));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Any batch of WKB lines: the kernel gives what the one-point transform gives, bit for bit,
    /// and the native interleaved and separated forms of the same lines give the same numbers.
    #[test]
    fn wkb_and_native_lines_agree_with_the_one_point_transform(
        lines in prop::collection::vec(
            prop::collection::vec((73.0f64..135.0, 18.0f64..53.0), 1..6), 1..40),
        little in any::<bool>(),
    ) {
        let t = Transformer::from_ids("EPSG:4326", "GCJ02").unwrap();
        let wkbs: Vec<Vec<u8>> = lines
            .iter()
            .map(|l| wkb(little, 2, &[l.iter().map(|&(x, y)| [x, y, 0.0]).collect()], false))
            .collect();
        let array = BinaryArray::from(wkbs.iter().map(|w| Some(w.as_slice())).collect::<Vec<_>>());
        let out = transform_array(&t, &array, Encoding::Wkb).unwrap();
        prop_assert!(out.failures.is_empty());
        let got = out.array.as_binary::<i32>();
        let flat: Vec<[f64; 3]> = lines.iter().flatten().map(|&(x, y)| [x, y, 0.0]).collect();
        let mut offsets = vec![0i32];
        for l in &lines {
            offsets.push(offsets.last().unwrap() + l.len() as i32);
        }
        let mut k = 0;
        for i in 0..lines.len() {
            for g in read_wkb(got.value(i)) {
                let w = expected(&t, flat[k]);
                prop_assert_eq!((g[0].to_bits(), g[1].to_bits()), (w[0].to_bits(), w[1].to_bits()));
                k += 1;
            }
        }
        for leaf in [Arc::new(interleaved(&flat, false)) as ArrayRef, Arc::new(separated(&flat, false))] {
            let field = Arc::new(Field::new("vertices", leaf.data_type().clone(), false));
            let native = ListArray::new(field, OffsetBuffer::new(ScalarBuffer::from(offsets.clone())), leaf, None);
            let out = transform_array(&t, &native, Encoding::LineString).unwrap();
            prop_assert!(out.failures.is_empty());
            let c = coords(out.array.as_list::<i32>().values().as_ref());
            for (g, p) in c.iter().zip(&flat) {
                let w = expected(&t, *p);
                prop_assert_eq!((g[0].to_bits(), g[1].to_bits()), (w[0].to_bits(), w[1].to_bits()));
            }
        }
    }
}
