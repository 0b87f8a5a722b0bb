//! Transforming `geo_types` geometries in place, through `geo`'s coordinate-mapping trait.

use crate::batch::BatchReport;
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
    /// The vertices are gathered in traversal order into one buffer (16 bytes each), run
    /// through the batch pipeline ([`transform_slice`](Self::transform_slice)) and written
    /// back, so results are bit for bit those of [`transform_xy`](Self::transform_xy).
    ///
    /// A `Rect` is transformed through its two corners only; convert it to a `Polygon` first if
    /// its shape matters.
    pub fn transform_geometry<G: MapCoordsInPlace<f64>>(&self, geometry: &mut G) -> BatchReport {
        // `map_coords_in_place` takes a `Fn + Copy` closure: state goes through cells.
        let coords = RefCell::new(Vec::new());
        let gathered = &coords;
        geometry.map_coords_in_place(move |c: Coord<f64>| {
            gathered.borrow_mut().push(c);
            c
        });
        let mut coords = coords.into_inner();
        let report = self.transform_slice(&mut coords);
        // The same traversal again; it visits exactly the vertices of the first, in order.
        let next = Cell::new(0usize);
        let (next, coords) = (&next, &coords);
        geometry.map_coords_in_place(move |c: Coord<f64>| {
            let i = next.get();
            next.set(i + 1);
            coords.get(i).copied().unwrap_or(c)
        });
        report
    }
}
