//! Typed handles: what a step call takes and returns.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;

use super::kinds::{DataKind, Literal, ParamValue, PortType};

/// Where a handle points inside the pipeline being built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[doc(hidden)]
pub struct PortRef {
    /// The builder scope (one per `#[pipeline]` call) the handle belongs to.
    pub scope: u32,
    pub source: Source,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[doc(hidden)]
pub enum Source {
    /// The `i`-th input of the enclosing pipeline.
    Input(u32),
    /// An output of an earlier node.
    Output { node: u32, output: u32 },
    /// A constant (index into the thread's constant table).
    Constant(u32),
    /// A stand-in argument used when building the outermost pipeline.
    Placeholder(u32),
    /// Nothing: an optional step input called with `None`.
    Unbound,
}

/// The port of an optional step input called with `None`.
#[doc(hidden)]
pub fn unbound_port() -> PortRef {
    PortRef {
        scope: u32::MAX,
        source: Source::Unbound,
    }
}

/// A constant bound to a port: a literal parameter value or a data location.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Constant {
    Literal(Literal),
    Data(String),
}

thread_local! {
    static CONSTANTS: RefCell<Vec<Constant>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn intern(constant: Constant) -> PortRef {
    let index = CONSTANTS.with(|c| {
        let mut c = c.borrow_mut();
        c.push(constant);
        c.len() - 1
    });
    PortRef {
        scope: u32::MAX,
        source: Source::Constant(index as u32),
    }
}

pub(crate) fn constant(index: u32) -> Constant {
    CONSTANTS.with(|c| c.borrow()[index as usize].clone())
}

/// Data flowing between steps: a typed handle to a pipeline input, a step output, or a fixed
/// location.
///
/// `K` is the data kind ([`UriFile`](super::UriFile), [`UriFolder`](super::UriFolder), … or
/// your own `#[derive(DataKind)]` type). Handles are cheap `Copy` values; use one as often as
/// you like. A `Data<UriFile>` is not a `Data<UriFolder>`: passing one where the other is
/// expected does not compile.
pub struct Data<K> {
    pub(crate) port: PortRef,
    kind: PhantomData<fn() -> K>,
}

impl<K> Data<K> {
    pub(crate) fn from_port(port: PortRef) -> Self {
        Data {
            port,
            kind: PhantomData,
        }
    }

    /// A fixed data location: an `azureml://datastores/NAME/paths/PATH` URI, an `https://` URL,
    /// or a local path (relative paths are relative to the current directory when the pipeline
    /// runs or is submitted).
    pub fn at(location: impl Into<String>) -> Self {
        Data::from_port(intern(Constant::Data(location.into())))
    }
}

impl<K> Clone for Data<K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K> Copy for Data<K> {}

impl<K> fmt::Debug for Data<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Data<{}>({:?})",
            short_type_name::<K>(),
            self.port.source
        )
    }
}

/// A pipeline parameter of type `T` (`i64`, `f64`, `bool` or `String`): a handle to a pipeline
/// parameter, or a constant.
///
/// Step calls accept plain values where a `Param<T>` is expected (`compare(a, b, 10)`); for a
/// sub-pipeline call, write `Param::from(10)` or `10.into()`.
pub struct Param<T> {
    pub(crate) port: PortRef,
    value: PhantomData<fn() -> T>,
}

impl<T> Param<T> {
    pub(crate) fn from_port(port: PortRef) -> Self {
        Param {
            port,
            value: PhantomData,
        }
    }
}

impl<T: ParamValue> Param<T> {
    /// A constant parameter value.
    pub fn value(value: T) -> Self {
        Param::from_port(intern(Constant::Literal(value.into_literal())))
    }
}

impl<T> Clone for Param<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Param<T> {}

impl<T> fmt::Debug for Param<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Param<{}>({:?})",
            short_type_name::<T>(),
            self.port.source
        )
    }
}

macro_rules! param_from {
    ($($t:ty => $target:ty, $conv:expr;)*) => {$(
        impl From<$t> for Param<$target> {
            fn from(value: $t) -> Self {
                #[allow(clippy::redundant_closure_call)]
                Param::value(($conv)(value))
            }
        }
    )*};
}

param_from! {
    i64 => i64, |v| v;
    i32 => i64, i64::from;
    u32 => i64, i64::from;
    f64 => f64, |v| v;
    f32 => f64, f64::from;
    bool => bool, |v| v;
    String => String, |v| v;
    &str => String, str::to_owned;
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

/// A type a step or pipeline input can have: `Data<K>` or `Param<T>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a pipeline or step input",
    label = "expected `Data<K>` or `Param<T>`",
    note = "inputs are data handles (`Data<UriFolder>`, …) or parameters (`Param<i64>`, `Param<f64>`, `Param<bool>`, `Param<String>`)"
)]
pub trait InputPort: Sized {
    /// The wire type of the port.
    const PORT_TYPE: PortType;
    /// What a `#[default(...)]` value is written as (`T` for `Param<T>`, `&str` for data).
    type DefaultValue;
    /// Turns a `#[default(...)]` value into a constant.
    fn default_constant(value: Self::DefaultValue) -> DefaultValue;
    #[doc(hidden)]
    fn __port(&self) -> PortRef;
    #[doc(hidden)]
    fn __from_port(port: PortRef) -> Self;
}

/// A default for a pipeline input, as declared with `#[default(...)]`.
#[derive(Clone, Debug, PartialEq)]
pub enum DefaultValue {
    /// A parameter value.
    Literal(Literal),
    /// A data location (local path, `azureml://` URI or URL).
    Data(String),
}

impl<K: DataKind> InputPort for Data<K> {
    const PORT_TYPE: PortType = PortType::Data(K::ASSET_TYPE);
    type DefaultValue = &'static str;
    fn default_constant(value: &'static str) -> DefaultValue {
        DefaultValue::Data(value.to_owned())
    }
    fn __port(&self) -> PortRef {
        self.port
    }
    fn __from_port(port: PortRef) -> Self {
        Data::from_port(port)
    }
}

impl<T: ParamValue> InputPort for Param<T> {
    const PORT_TYPE: PortType = PortType::Param(T::PARAM_TYPE);
    type DefaultValue = T;
    fn default_constant(value: T) -> DefaultValue {
        DefaultValue::Literal(value.into_literal())
    }
    fn __port(&self) -> PortRef {
        self.port
    }
    fn __from_port(port: PortRef) -> Self {
        Param::from_port(port)
    }
}

/// A type a step can return per output: `Data<K>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a step output",
    label = "expected `Data<K>`",
    note = "a step returns `Data<K>`, a tuple of them, or `()`"
)]
pub trait OutputPort: Sized {
    /// The wire type of the port.
    const ASSET_TYPE: super::AssetType;
    #[doc(hidden)]
    fn __port(&self) -> PortRef;
    #[doc(hidden)]
    fn __from_port(port: PortRef) -> Self;
}

impl<K: DataKind> OutputPort for Data<K> {
    const ASSET_TYPE: super::AssetType = K::ASSET_TYPE;
    fn __port(&self) -> PortRef {
        self.port
    }
    fn __from_port(port: PortRef) -> Self {
        Data::from_port(port)
    }
}

/// What a `#[pipeline]` fn can return: nothing, one `Data<K>`, or a tuple of them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a pipeline",
    label = "expected `()`, `Data<K>` or a tuple of `Data<K>`"
)]
pub trait PipelineReturn: Sized {
    #[doc(hidden)]
    fn __ports(&self) -> Vec<PortRef>;
    #[doc(hidden)]
    fn __from_ports(ports: &[PortRef]) -> Self;
}

impl PipelineReturn for () {
    fn __ports(&self) -> Vec<PortRef> {
        Vec::new()
    }
    fn __from_ports(_: &[PortRef]) -> Self {}
}

impl<K: DataKind> PipelineReturn for Data<K> {
    fn __ports(&self) -> Vec<PortRef> {
        vec![self.port]
    }
    fn __from_ports(ports: &[PortRef]) -> Self {
        Data::from_port(ports[0])
    }
}

macro_rules! tuple_return {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: OutputPort),+> PipelineReturn for ($($name,)+) {
            fn __ports(&self) -> Vec<PortRef> {
                vec![$(self.$idx.__port()),+]
            }
            fn __from_ports(ports: &[PortRef]) -> Self {
                ($($name::__from_port(ports[$idx]),)+)
            }
        }
    };
}

tuple_return!(A 0);
tuple_return!(A 0, B 1);
tuple_return!(A 0, B 1, C 2);
tuple_return!(A 0, B 1, C 2, D 3);
tuple_return!(A 0, B 1, C 2, D 3, E 4);
tuple_return!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_return!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_return!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// What a step accepts where it declares a `Param<T>`: a `Param<T>` handle or a plain value
/// (`10`, `0.5`, `true`, `"text"`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be passed where a `Param<{T}>` is expected",
    label = "expected a `Param<{T}>` or a plain `{T}` value",
    note = "plain values by type: `i64` `10`, `f64` `10.0` (not `10`), `bool` `true`, `String` `\"text\"`"
)]
pub trait IntoParam<T> {
    #[doc(hidden)]
    fn __into_port(self) -> PortRef;
}

#[diagnostic::do_not_recommend]
impl<T> IntoParam<T> for Param<T> {
    fn __into_port(self) -> PortRef {
        self.port
    }
}

/// The plain values each parameter type accepts, one sealed trait per type. `IntoParam` is
/// implemented once per parameter type, for every value of its trait: then a wrong value
/// (`"ten"` for a `Param<i64>`) gets only the trait's own message, and rustc has no single
/// impl for that value's type to point at inside this crate.
mod plain {
    use super::Param;

    macro_rules! plain_values {
        ($($(#[$doc:meta])* $name:ident => $target:ty: $($t:ty),+;)*) => {$(
            $(#[$doc])*
            pub trait $name {
                fn into_param(self) -> Param<$target>;
            }
            $(impl $name for $t {
                fn into_param(self) -> Param<$target> {
                    Param::from(self)
                }
            })+
        )*};
    }

    plain_values! {
        /// Values for a `Param<i64>`.
        Integer => i64: i64, i32, u32;
        /// Values for a `Param<f64>`.
        Number => f64: f64, f32;
        /// Values for a `Param<bool>`.
        Boolean => bool: bool;
        /// Values for a `Param<String>`.
        Text => String: String, &str;
    }
}

macro_rules! into_param {
    ($($plain:ident => $target:ty;)*) => {$(
        #[diagnostic::do_not_recommend]
        impl<V: plain::$plain> IntoParam<$target> for V {
            fn __into_port(self) -> PortRef {
                self.into_param().port
            }
        }
    )*};
}

into_param! {
    Integer => i64;
    Number => f64;
    Boolean => bool;
    Text => String;
}
