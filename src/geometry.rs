//! Transforming `geo_types` geometries in place, through `geo`'s coordinate-mapping trait.

use crate::batch::{BatchReport, PointFailure};
use crate::transformer::Transformer;
use geo::MapCoordsInPlace;
use geo_types::Coord;
use std::cell::{Cell, RefCell};

impl Transformer {
    /// Transforms every vertex of a geometry (any `geo_types` type: `Geometry`, `Point`,
    /// `LineString`, `Polygon`, the `Multi*` types, `GeometryCollection`, ...) in place, with
    /// height 0. A vertex that fails becomes NaN and is reported by its index in traversal
    /// order; the other vertices are still transformed.
    ///
    /// A `Rect` is transformed through its two corners only; convert it to a `Polygon` first if
    /// its shape matters.
    pub fn transform_geometry<G: MapCoordsInPlace<f64>>(&self, geometry: &mut G) -> BatchReport {
        let index = Cell::new(0usize);
        let failures = RefCell::new(Vec::new());
        let (index_ref, failures_ref) = (&index, &failures);
        geometry.map_coords_in_place(move |c: Coord<f64>| {
            let i = index_ref.get();
            index_ref.set(i + 1);
            match self.transform_xy(c.x, c.y) {
                Ok((x, y)) => Coord { x, y },
                Err(error) => {
                    failures_ref.borrow_mut().push(PointFailure { index: i, error });
                    Coord { x: f64::NAN, y: f64::NAN }
                }
            }
        });
        BatchReport { points: index.get(), failures: failures.into_inner() }
    }
}
