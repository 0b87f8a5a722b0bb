//! `geounify estimate`: transformation parameters from control points (a thin layer over
//! [`geounify::estimate`]). The file format and the outputs are documented once, in
//! [`LONG_ABOUT`] (shown by `geounify estimate --help`).

use crate::crs::MAX_ID_COLUMN;
use crate::{output_error, report, EXIT_OK, EXIT_USAGE};
use clap::{Args, ValueEnum};
use geounify::estimate::{
    control_points_text, convention_name, estimate, geocentric_on_datum, parse_control_points,
    ControlPoint, Estimate, EstimateError, Model, Options, Outliers, Parameters, PointColumns,
};
use geounify::ops::HelmertConvention;
use geounify::{PointError, Registry};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::PathBuf;

/// The long help of `geounify estimate`: the file format, the method and the outputs.
pub(crate) const LONG_ABOUT: &str = "\
Estimate transformation parameters from control points (the same points in a source and a
target system) by least squares, with residuals and outlier detection, and print a report and a
snippet to paste into a CRS file.

Models (--model):
  helmert4  planar similarity: dx, dy metres, theta arc-seconds (counter-clockwise in (E, N)),
            s ppm. Columns id,x1,y1,x2,y2 (metres). At least 2 points.
  affine6   planar affine: a0, a1, a2, b0, b1, b2 (E' = a0 + a1 E + a2 N,
            N' = b0 + b1 E + b2 N). Columns id,x1,y1,x2,y2. At least 3 non-collinear points.
  poly2     planar second-order polynomial about the origin e0, n0 = the centroid of the
            source points: u = E - e0, v = N - n0,
            E' = a0 + a1 u + a2 v + a3 u^2 + a4 u v + a5 v^2, N' = b0 + b1 u + ... + b5 v^2
            (a3..a5, b3..b5 per metre). Columns id,x1,y1,x2,y2. At least 6 points, not all on
            one conic (line, circle, ...); use many more, spread over the area, since the
            quadratic terms extrapolate badly outside it.
  helmert3  geocentric translation tx, ty, tz metres. At least 1 point.
  helmert7  geocentric 7-parameter Helmert (needs --convention position_vector or
            coordinate_frame): tx, ty, tz metres, rx, ry, rz arc-seconds, s ppm, as
            X' = (1 + s 1e-6) R X + T with the small-angle rotation matrix (EPSG 9606 / 9607).
            At least 3 non-collinear points.
  helmert3 / helmert7 read geocentric columns id,x1,y1,z1,x2,y2,z2 (metres); with --source-crs
  and --target-crs they read each side in that CRS's coordinates instead (lon/lat degrees or
  easting/northing metres, then ellipsoidal height; id,x1,y1,x2,y2 means heights 0), converted
  to geocentric on each CRS's own datum ellipsoid (no datum shift: that is what is estimated).
Columns 1 are the source system, 2 the target.

File: comma-, tab- or whitespace-separated (a line containing a comma is split at commas, others
at whitespace); blank lines and lines starting with # are skipped; the first other line is a
header if its numeric columns do not parse. Ids are any UTF-8 text (e.g. Chinese point names)
and must be unique. `-` reads standard input. --axis-order north_east says the x, y columns are
northing, easting (survey X = north, Y = east); parameters and residuals are then reported in
that order, and the snippet says axis_order = \"north_east\" (poly2: a, b are then the X' and Y'
coefficients of x = N - n0, y = E - e0; e0 and n0 keep meaning easting and northing).

Method: least squares in centred coordinates (Householder QR of the equilibrated design matrix;
a condition estimate above 1e10 is refused as degenerate). Residual v = target - model(source),
metres (geocentric X, Y, Z metres for helmert3 / helmert7). RMSE = sqrt(sum |v_i|^2 / n) over
the n used points (|v_i| the 2D or 3D length). sigma0 = sqrt(v'v / (m - u)) per coordinate, m
observations, u parameters. Outliers: iterative data snooping with studentised residuals
w = |v| / (sigma * sqrt(r)), r the redundancy number, sigma = max(sigma0, 0.1 mm): while the
largest w exceeds --threshold (default 3) that point is flagged and the estimate repeated
without it; the search stops (and names the point as a suspect) rather than leave no
redundancy. --outliers remove (default) drops flagged points, flag keeps them in the estimate,
off skips the test.

Text output: the report (model, points, parameters with units and standard errors, RMSE,
sigma0, maximum residual, residual table, outliers) and the CRS-file snippet.

--json output, one object:
  model            \"helmert4\" | \"affine6\" | \"poly2\" | \"helmert3\" | \"helmert7\"
  convention       \"position_vector\" | \"coordinate_frame\" | null
  axis_order       \"east_north\" | \"north_east\" (order of x, y in parameters and residuals)
  parameters       the CRS-file keys: method, [convention], [axis_order], then dx dy theta s |
                   a0 a1 a2 b0 b1 b2 | e0 n0 a [6 numbers] b [6 numbers] | tx ty tz |
                   tx ty tz rx ry rz s (m, arcsec, ppm; poly2 quadratic terms 1/m)
  standard_errors  the same numeric keys (poly2: a, b; the origin is not estimated), or null
                   without redundancy
  rmse             metres;  sigma0: metres or null
  max_residual     {\"id\", \"norm\"} over the used points, metres
  points_given, points_used, redundancy
  residuals        [{\"id\", \"dx\", \"dy\", [\"dz\" for geocentric], \"norm\", \"w\" (studentised,
                   or null), \"used\", \"outlier\"}] in file order, metres, in the file's x, y
                   order (geocentric X, Y, Z for helmert3 / helmert7)
  outliers         [ids] flagged by the test; suspect: id or null

Errors name the file line and point id, never coordinate values; exit status 2.";

/// Arguments of `geounify estimate`.
#[derive(Debug, Args)]
pub(crate) struct EstimateArgs {
    /// The model to estimate.
    #[arg(long, value_enum)]
    model: ModelArg,
    /// Rotation convention of helmert7.
    #[arg(long, value_enum)]
    convention: Option<ConventionArg>,
    /// Order of the x, y columns (and of the reported parameters and residuals) for planar
    /// models and projected CRSs.
    #[arg(long = "axis-order", value_enum, default_value = "east_north")]
    axis_order: AxisOrder,
    /// helmert3 / helmert7: the source columns are coordinates of this CRS (id or alias).
    #[arg(long = "source-crs", value_name = "ID", requires = "target_crs")]
    source_crs: Option<String>,
    /// helmert3 / helmert7: the target columns are coordinates of this CRS (id or alias).
    #[arg(long = "target-crs", value_name = "ID", requires = "source_crs")]
    target_crs: Option<String>,
    /// What to do with points the outlier test flags.
    #[arg(long, value_enum, default_value = "remove")]
    outliers: OutliersArg,
    /// Studentised-residual threshold of the outlier test.
    #[arg(long, default_value_t = 3.0, value_name = "W")]
    threshold: f64,
    /// Print the result as one JSON object instead of the text report.
    #[arg(long)]
    json: bool,
    /// The control-point file (`-` for standard input).
    #[arg(value_name = "POINTS")]
    points: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ModelArg {
    Helmert4,
    Affine6,
    Poly2,
    Helmert3,
    Helmert7,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ConventionArg {
    #[value(name = "position_vector", alias = "position-vector")]
    PositionVector,
    #[value(name = "coordinate_frame", alias = "coordinate-frame")]
    CoordinateFrame,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AxisOrder {
    #[value(name = "east_north", alias = "east-north")]
    EastNorth,
    #[value(name = "north_east", alias = "north-east")]
    NorthEast,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutliersArg {
    /// Drop flagged points and estimate again (default).
    Remove,
    /// Flag them, keep them in the estimate.
    Flag,
    /// No outlier test.
    Off,
}

/// Exit status of `geounify estimate`.
pub(crate) fn run(args: &EstimateArgs, registry: &Registry) -> u8 {
    match run_inner(args, registry) {
        Ok(text) => match std::io::stdout().lock().write_all(text.as_bytes()) {
            Ok(()) => EXIT_OK,
            Err(error) => output_error(&error, EXIT_OK),
        },
        Err(message) => {
            report(message);
            EXIT_USAGE
        }
    }
}

/// The whole command; `Err` is the message for stderr.
fn run_inner(args: &EstimateArgs, registry: &Registry) -> Result<String, String> {
    let model = match (args.model, args.convention) {
        (ModelArg::Helmert7, Some(ConventionArg::PositionVector)) => {
            Model::Helmert7(HelmertConvention::PositionVector)
        }
        (ModelArg::Helmert7, Some(ConventionArg::CoordinateFrame)) => {
            Model::Helmert7(HelmertConvention::CoordinateFrame)
        }
        (ModelArg::Helmert7, None) => {
            return Err("helmert7 needs --convention position_vector or coordinate_frame".into())
        }
        (_, Some(_)) => return Err("--convention applies to helmert7 only".into()),
        (ModelArg::Helmert4, None) => Model::Helmert4,
        (ModelArg::Affine6, None) => Model::Affine6,
        (ModelArg::Poly2, None) => Model::Poly2,
        (ModelArg::Helmert3, None) => Model::Helmert3,
    };
    if !(args.threshold.is_finite() && args.threshold > 0.0) {
        return Err("--threshold must be a finite positive number".into());
    }
    let crss = match (&args.source_crs, &args.target_crs) {
        (Some(s), Some(t)) => {
            if model.is_planar() {
                return Err(
                    "--source-crs / --target-crs apply to helmert3 and helmert7 only".into()
                );
            }
            let source = registry.lookup(s).map_err(|e| e.to_string())?;
            let target = registry.lookup(t).map_err(|e| e.to_string())?;
            Some((source, target))
        }
        _ => None,
    };
    let north_east = args.axis_order == AxisOrder::NorthEast;
    if north_east && !model.is_planar() && crss.is_none() {
        return Err("--axis-order north_east applies to planar models and projected CRSs".into());
    }
    let file = args.points.display().to_string();
    let text = read_text(&args.points).map_err(|e| format!("{file}: {e}"))?;
    let columns = match (model.is_planar(), crss.is_some()) {
        (true, _) => PointColumns::Planar,
        (false, false) => PointColumns::Geocentric,
        (false, true) => PointColumns::Either,
    };
    let rows = parse_control_points(&text, columns)
        .map_err(|e| format!("{file}:{}: {}", e.line, e.message))?;
    let lines: HashMap<String, usize> = rows.iter().map(|r| (r.id.clone(), r.line)).collect();
    let mut points = Vec::with_capacity(rows.len());
    for row in rows {
        let (mut s, mut t) = (row.source, row.target);
        if north_east {
            s.swap(0, 1);
            t.swap(0, 1);
        }
        if let Some((source_crs, target_crs)) = &crss {
            let convert = |crs: &geounify::Crs, p, side| {
                geocentric_on_datum(crs, p).map_err(|e| {
                    format!(
                        "{file}:{}: point '{}': the {side} coordinates cannot be converted from \
                         {}: {}",
                        row.line,
                        row.id,
                        crs.id(),
                        point_reason(&e)
                    )
                })
            };
            s = convert(source_crs, s, "source")?;
            t = convert(target_crs, t, "target")?;
        }
        points.push(ControlPoint { id: row.id, source: s, target: t });
    }
    let outliers = match args.outliers {
        OutliersArg::Remove => Outliers::Remove,
        OutliersArg::Flag => Outliers::FlagOnly,
        OutliersArg::Off => Outliers::Off,
    };
    let options = Options { outliers, threshold: args.threshold, ..Options::default() };
    let result = estimate(model, &points, &options)
        .map_err(|e| format!("{file}: {}", estimate_message(&e, &lines)))?;
    let mut out = Output::new(&result, north_east, crss.is_some() || !model.is_planar());
    out.source_ellipsoid = crss.as_ref().map(|(s, _)| s.datum().ellipsoid().id().to_string());
    if args.json {
        Ok(out.json(&result, points.len()))
    } else {
        Ok(out.text(&result, points.len(), &file))
    }
}

/// The file (or stdin for `-`) as UTF-8 text.
fn read_text(path: &PathBuf) -> Result<String, String> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin().lock().read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    } else {
        bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    }
    control_points_text(bytes).map_err(|e| e.to_string())
}

/// A point error in words, without coordinate values.
fn point_reason(error: &PointError) -> String {
    match error {
        PointError::NonFinite => "a coordinate is not finite".into(),
        PointError::LatitudeOutOfRange { .. } => "the latitude is beyond ±90°".into(),
        PointError::LongitudeOutOfRange { .. } => "the longitude is beyond ±572.96°".into(),
        PointError::OutsideDomain { operation } => format!("outside the domain of {operation}"),
        PointError::NoConvergence { operation, .. } => format!("{operation} did not converge"),
    }
}

/// The library's error with the file line of each named point.
fn estimate_message(error: &EstimateError, lines: &HashMap<String, usize>) -> String {
    let at = |id: &str| lines.get(id).map_or(String::new(), |l| format!(" (line {l})"));
    match error {
        EstimateError::DuplicateSource { id, first } => format!(
            "point '{id}'{} has the same source coordinates as point '{first}'{}",
            at(id),
            at(first)
        ),
        EstimateError::DuplicateId { id } | EstimateError::NonFinite { id } => {
            format!("{error}{}", at(id))
        }
        other => other.to_string(),
    }
}

/// The result arranged for output: parameters and residuals in the file's axis order.
struct Output {
    /// `(key, value, unit, standard error)`.
    params: Vec<(&'static str, f64, &'static str, Option<f64>)>,
    /// Residual components in the file's order.
    residuals: Vec<[f64; 3]>,
    north_east: bool,
    geocentric: bool,
    /// The ellipsoid id of the source CRS's datum, when the points came with CRS ids.
    source_ellipsoid: Option<String>,
}

impl Output {
    fn new(e: &Estimate, north_east: bool, geocentric: bool) -> Self {
        let values = e.parameters.values();
        let se = |k: usize| e.standard_errors.get(k).copied();
        let planar_ne = north_east && !geocentric;
        let params = match (&e.parameters, planar_ne) {
            (Parameters::Helmert4(p), true) => {
                let (dx, dy, theta, s) = p.to_north_east();
                vec![
                    ("dx", dx, "m", se(1)),
                    ("dy", dy, "m", se(0)),
                    ("theta", theta, "arcsec", se(2)),
                    ("s", s, "ppm", se(3)),
                ]
            }
            (Parameters::Affine6(p), true) => {
                let (a0, a1, a2, b0, b1, b2) = p.to_north_east();
                vec![
                    ("a0", a0, "m", se(3)),
                    ("a1", a1, "", se(5)),
                    ("a2", a2, "", se(4)),
                    ("b0", b0, "m", se(0)),
                    ("b1", b1, "", se(2)),
                    ("b2", b2, "", se(1)),
                ]
            }
            (Parameters::Poly2(p), true) => {
                // Keys e0, n0 keep their meaning; a, b become the X' (north) and Y' (east)
                // coefficients (values() indexes a as 2.., b as 8..).
                let (x0, y0, a, b) = p.to_north_east();
                let swap = [0, 2, 1, 5, 4, 3];
                let mut v = vec![("e0", y0, "m", None), ("n0", x0, "m", None)];
                v.extend((0..6).map(|i| (values[2 + i].0, a[i], values[2 + i].2, se(8 + swap[i]))));
                v.extend((0..6).map(|i| (values[8 + i].0, b[i], values[8 + i].2, se(2 + swap[i]))));
                v
            }
            (Parameters::Poly2(_), false) => values
                .iter()
                .enumerate()
                .map(|(k, &(n, v, u))| (n, v, u, if k < 2 { None } else { se(k) }))
                .collect(),
            _ => values.iter().enumerate().map(|(k, &(n, v, u))| (n, v, u, se(k))).collect(),
        };
        let residuals = e
            .residuals
            .iter()
            .map(|r| if planar_ne { [r.dy, r.dx, 0.0] } else { [r.dx, r.dy, r.dz] })
            .collect();
        Self { params, residuals, north_east: planar_ne, geocentric, source_ellipsoid: None }
    }

    fn axis_order(&self) -> &'static str {
        if self.north_east {
            "north_east"
        } else {
            "east_north"
        }
    }

    /// The CRS-file snippet (TOML inline table).
    fn toml(&self, e: &Estimate) -> String {
        let mut s = String::new();
        let table = if self.geocentric { "to_cgcs2000" } else { "planar" };
        let _ = write!(s, "{table} = {{ method = \"{}\"", e.model.name());
        if let Model::Helmert7(c) = e.model {
            let _ = write!(s, ", convention = \"{}\"", convention_name(c));
        }
        if self.north_east {
            s.push_str(", axis_order = \"north_east\"");
        }
        if e.model == Model::Poly2 {
            // e0, n0, then the arrays a = [a0..a5], b = [b0..b5].
            let array = |part: &[(&str, f64, &str, Option<f64>)]| {
                part.iter().map(|p| format!("{:?}", p.1)).collect::<Vec<_>>().join(", ")
            };
            let (origin, coefficients) = self.params.split_at(2);
            for (key, value, _, _) in origin {
                let _ = write!(s, ", {key} = {value:?}");
            }
            let (a, b) = coefficients.split_at(6);
            let _ = write!(s, ", a = [{}], b = [{}]", array(a), array(b));
        } else {
            for (key, value, _, _) in &self.params {
                let _ = write!(s, ", {key} = {value:?}");
            }
        }
        s.push_str(" }\n");
        s
    }

    fn text(&self, e: &Estimate, given: usize, file: &str) -> String {
        let mut s = String::new();
        let convention = match e.model {
            Model::Helmert7(c) => format!(" ({})", convention_name(c)),
            _ => String::new(),
        };
        let _ = writeln!(s, "model: {}{convention}", e.model.name());
        let _ = writeln!(s, "control points: {file}");
        let dropped = given - e.points_used;
        let _ = writeln!(
            s,
            "points: {given} given, {} used, {dropped} dropped as outliers; redundancy {}",
            e.points_used, e.redundancy
        );
        if !self.geocentric {
            let _ = writeln!(s, "axis order: {}", self.axis_order());
        }
        let _ = writeln!(s, "parameters (± standard error):");
        for (key, value, unit, se) in &self.params {
            if *unit == "1/m" {
                // poly2's quadratic terms: 1e-10 per metre and smaller.
                let _ = write!(s, "  {key:<5} = {value:>20.6e}");
                if let Some(se) = se {
                    let _ = write!(s, " ± {se:.2e}");
                }
                let _ = writeln!(s, " {unit}");
                continue;
            }
            let decimals = match *unit {
                "m" => 4,
                "arcsec" | "ppm" => 6,
                _ => 12,
            };
            let _ = write!(s, "  {key:<5} = {value:>20.decimals$}");
            if let Some(se) = se {
                let _ = write!(s, " ± {se:.decimals$}");
            }
            let _ = writeln!(s, " {unit}");
        }
        let frame = if self.geocentric { " (geocentric)" } else { "" };
        let _ = writeln!(s, "rmse: {:.4} m per point{frame}", e.rmse);
        match e.sigma0 {
            Some(s0) => {
                let _ = writeln!(s, "sigma0: {s0:.4} m per coordinate");
            }
            None => {
                let _ = writeln!(s, "sigma0: undefined (no redundancy)");
            }
        }
        let _ = writeln!(s, "max residual: {:.4} m at {}", e.max_residual, e.max_residual_id);
        let axes = if self.geocentric {
            ["dX", "dY", "dZ"]
        } else if self.north_east {
            ["dN", "dE", ""]
        } else {
            ["dE", "dN", ""]
        };
        let _ = writeln!(s, "residuals (target - model(source), metres):");
        // Ids wider than MAX_ID_COLUMN are written whole and only shift their own row; padding
        // by hand (a width argument of `format!` panics above 65,535).
        let id_width = e
            .residuals
            .iter()
            .map(|r| display_width(&r.id))
            .filter(|&w| w <= MAX_ID_COLUMN)
            .max()
            .unwrap_or(2)
            .max(2);
        let mut header = format!("  id{} {:>9} {:>9}", " ".repeat(id_width - 2), axes[0], axes[1]);
        if self.geocentric {
            let _ = write!(header, " {:>9}", axes[2]);
        }
        let _ = writeln!(s, "{header} {:>9} {:>7}  status", "norm", "w");
        for (r, v) in e.residuals.iter().zip(&self.residuals) {
            let pad = id_width.saturating_sub(display_width(&r.id));
            let _ = write!(s, "  {}{} {:>9.4} {:>9.4}", r.id, " ".repeat(pad), v[0], v[1]);
            if self.geocentric {
                let _ = write!(s, " {:>9.4}", v[2]);
            }
            let w = r.standardised.map_or("-".to_string(), |w| format!("{w:.2}"));
            let status = match (r.used, r.outlier) {
                (false, _) => "dropped (outlier)",
                (true, true) => "outlier (kept)",
                (true, false) => "used",
            };
            let _ = writeln!(s, " {:>9.4} {w:>7}  {status}", r.norm);
        }
        if e.outliers.is_empty() {
            let _ = writeln!(s, "outliers: none");
        } else {
            let verb = if dropped > 0 { "dropped" } else { "flagged, kept" };
            let _ = writeln!(s, "outliers {verb}: {}", e.outliers.join(", "));
        }
        if let Some(id) = &e.suspect {
            let _ = writeln!(
                s,
                "warning: point {id} exceeds the threshold but was kept: dropping it would leave \
                 the model without redundancy"
            );
        }
        let _ = writeln!(s);
        if self.geocentric {
            let ellipsoid = match self.source_ellipsoid.as_deref() {
                Some(id) if id != "custom" => format!("\"{id}\""),
                _ => "\"...\"                # the source datum's ellipsoid".to_string(),
            };
            let _ = writeln!(
                s,
                "# For a CRS file (data/crs/README.md): the source datum, with these parameters \
                 as its shift\n# to CGCS2000 (valid when the target coordinates are CGCS2000 or \
                 WGS84). Choose the id.\n[[datum]]\nid = \"city:datum\"\nellipsoid = {ellipsoid}"
            );
        } else {
            let _ = writeln!(
                s,
                "# For a CRS file (data/crs/README.md): the local grid of the x2, y2 columns. \
                 Choose the id,\n# and set `base` to the projected CRS of the x1, y1 columns.\n\
                 [[crs]]\nid = \"city:grid\"\nbase = \"EPSG:...\""
            );
        }
        s.push_str(&self.toml(e));
        s
    }

    fn json(&self, e: &Estimate, given: usize) -> String {
        let mut params = Map::new();
        params.insert("method".into(), json!(e.model.name()));
        let convention = match e.model {
            Model::Helmert7(c) => Some(convention_name(c)),
            _ => None,
        };
        if let Some(c) = convention {
            params.insert("convention".into(), json!(c));
        }
        if self.north_east {
            params.insert("axis_order".into(), json!("north_east"));
        }
        let mut errors = Map::new();
        if e.model == Model::Poly2 {
            // {"e0", "n0", "a": [6], "b": [6]}; standard errors of a and b only.
            let (origin, coefficients) = self.params.split_at(2);
            for (key, value, _, _) in origin {
                params.insert((*key).into(), json!(value));
            }
            let (a, b) = coefficients.split_at(6);
            for (name, part) in [("a", a), ("b", b)] {
                params.insert(name.into(), json!(part.iter().map(|p| p.1).collect::<Vec<_>>()));
                let se: Option<Vec<f64>> = part.iter().map(|p| p.3).collect();
                if let Some(se) = se {
                    errors.insert(name.into(), json!(se));
                }
            }
        } else {
            for (key, value, _, se) in &self.params {
                params.insert((*key).into(), json!(value));
                if let Some(se) = se {
                    errors.insert((*key).into(), json!(se));
                }
            }
        }
        let residuals: Vec<Value> = e
            .residuals
            .iter()
            .zip(&self.residuals)
            .map(|(r, v)| {
                let mut m = Map::new();
                m.insert("id".into(), json!(r.id));
                m.insert("dx".into(), json!(v[0]));
                m.insert("dy".into(), json!(v[1]));
                if self.geocentric {
                    m.insert("dz".into(), json!(v[2]));
                }
                m.insert("norm".into(), json!(r.norm));
                m.insert("w".into(), json!(r.standardised));
                m.insert("used".into(), json!(r.used));
                m.insert("outlier".into(), json!(r.outlier));
                Value::Object(m)
            })
            .collect();
        let value = json!({
            "model": e.model.name(),
            "convention": convention,
            "axis_order": self.axis_order(),
            "parameters": params,
            "standard_errors": if errors.is_empty() { Value::Null } else { Value::Object(errors) },
            "rmse": e.rmse,
            "sigma0": e.sigma0,
            "max_residual": { "id": e.max_residual_id, "norm": e.max_residual },
            "points_given": given,
            "points_used": e.points_used,
            "redundancy": e.redundancy,
            "residuals": residuals,
            "outliers": e.outliers,
            "suspect": e.suspect,
        });
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Terminal columns of `s`, counting East Asian wide characters (Hangul Jamo onwards: CJK,
/// kana, Hangul, full-width forms) as two: enough to align a table of Chinese point names.
pub(crate) fn display_width(s: &str) -> usize {
    s.chars().map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 }).sum()
}
