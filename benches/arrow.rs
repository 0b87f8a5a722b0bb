//! The Arrow kernel's cost per point: 1M WKB points (Binary and BinaryView, 8,192-row arrays as
//! Parquet readers give them) and GeoArrow native points through `transform_array`, against the
//! bare `transform_slice` of the same points in the same run (the transform itself): the rest is
//! the kernel's own cost.

use arrow_array::builder::BinaryViewBuilder;
use arrow_array::{ArrayRef, BinaryArray, Float64Array, StructArray};
use arrow_schema::{DataType, Field, Fields};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use geounify::arrow::{transform_array, Encoding};
use geounify::Transformer;
use std::hint::black_box;
use std::sync::Arc;

// Only the point generator of the shared bench helpers is used here.
#[allow(dead_code)]
mod common;
use common::points_deg;

const N: usize = 1_000_000;
const ROWS: usize = 8192;

fn point_wkb(p: [f64; 2]) -> Vec<u8> {
    let mut b = vec![1u8, 1, 0, 0, 0];
    b.extend(p[0].to_le_bytes());
    b.extend(p[1].to_le_bytes());
    b
}

fn kernel(c: &mut Criterion) {
    let t = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
    let pts = points_deg(N, 114.0, 20.0);
    let wkb: Vec<Vec<u8>> = pts.iter().map(|&p| point_wkb(p)).collect();
    let binary: Vec<BinaryArray> = wkb
        .chunks(ROWS)
        .map(|c| BinaryArray::from(c.iter().map(|w| Some(w.as_slice())).collect::<Vec<_>>()))
        .collect();
    let views: Vec<_> = wkb
        .chunks(ROWS)
        .map(|c| {
            let mut b = BinaryViewBuilder::new();
            c.iter().for_each(|w| b.append_value(w));
            b.finish()
        })
        .collect();
    let fields = Fields::from(vec![
        Field::new("x", DataType::Float64, false),
        Field::new("y", DataType::Float64, false),
    ]);
    let native: Vec<StructArray> = pts
        .chunks(ROWS)
        .map(|c| {
            let x: ArrayRef =
                Arc::new(Float64Array::from(c.iter().map(|p| p[0]).collect::<Vec<_>>()));
            let y: ArrayRef =
                Arc::new(Float64Array::from(c.iter().map(|p| p[1]).collect::<Vec<_>>()));
            StructArray::new(fields.clone(), vec![x, y], None)
        })
        .collect();

    let mut group = c.benchmark_group("arrow_1m_points");
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(10);
    group.bench_function("transform_slice", |b| {
        b.iter_batched_ref(
            || pts.clone(),
            |p| t.transform_slice(black_box(p)),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("wkb_binary", |b| {
        b.iter(|| {
            for a in &binary {
                black_box(transform_array(&t, a, Encoding::Wkb).unwrap());
            }
        })
    });
    group.bench_function("wkb_binary_view", |b| {
        b.iter(|| {
            for a in &views {
                black_box(transform_array(&t, a, Encoding::Wkb).unwrap());
            }
        })
    });
    group.bench_function("geoarrow_point_separated", |b| {
        b.iter(|| {
            for a in &native {
                black_box(transform_array(&t, a, Encoding::Point).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, kernel);
criterion_main!(benches);
