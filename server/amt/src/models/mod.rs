//! Typed AMT, CIM and IPS classes and method inputs/outputs.
//!
//! Convention: every struct is declared with [`props_struct!`], which derives
//! `from_element` (read the children of an instance or `*_OUTPUT` element, in that element's
//! own namespace, so prefixes never matter) and `to_properties` (write them back in
//! declaration order, which follows the firmware's alphabetical order). Fields are `Option`
//! for scalars (firmware omits unset properties) and `Vec` for arrays (repeated elements).
//! Classes implement [`Model`], which gives the class name and resource URI used by
//! [`crate::client::Client::get`] and by the device-side writer. Method helpers return a
//! [`crate::wsman::Request`] and an output struct.

use crate::ns;
use crate::wsman::parse::ParseError;
use crate::wsman::{Element, EndpointReference, Properties, Value};

pub mod authorization;
pub mod boot;
pub mod general;
pub mod inventory;
pub mod kerberos;
pub mod logs;
pub mod power;
pub mod redirection;
pub mod setup;
pub mod time_sync;

/// A scalar property type: read from and written as element text.
pub trait Scalar: Sized {
    /// Parses the element text; `None` when it is not a valid value.
    fn parse_text(s: &str) -> Option<Self>;
    /// The text to write.
    fn to_text(&self) -> String;
}

impl Scalar for String {
    fn parse_text(s: &str) -> Option<Self> {
        Some(s.to_owned())
    }
    fn to_text(&self) -> String {
        self.clone()
    }
}

impl Scalar for bool {
    fn parse_text(s: &str) -> Option<Self> {
        match s.trim() {
            t if t.eq_ignore_ascii_case("true") || t == "1" => Some(true),
            t if t.eq_ignore_ascii_case("false") || t == "0" => Some(false),
            _ => None,
        }
    }
    fn to_text(&self) -> String {
        self.to_string()
    }
}

macro_rules! scalar_num {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            fn parse_text(s: &str) -> Option<Self> { s.trim().parse().ok() }
            fn to_text(&self) -> String { self.to_string() }
        }
    )*};
}
scalar_num!(u8, u16, u32, u64, i32, i64);

/// Implements [`Scalar`] for enums made with the crate's `num_enum!` macro.
macro_rules! scalar_enum {
    ($($t:ty),*) => {$(
        impl $crate::models::Scalar for $t {
            fn parse_text(s: &str) -> Option<Self> { s.trim().parse().ok() }
            fn to_text(&self) -> String { self.value().to_string() }
        }
    )*};
}
pub(crate) use scalar_enum;

scalar_enum!(crate::realm::Realm, crate::realm::AccessPermission);

/// A CIM datetime, sent as `<Datetime>2020-08-10T00:00:00Z</Datetime>` inside the property.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CimDateTime(pub String);

impl CimDateTime {
    /// Parses the RFC 3339 text.
    pub fn to_offset_date_time(&self) -> Option<time::OffsetDateTime> {
        time::OffsetDateTime::parse(&self.0, &time::format_description::well_known::Rfc3339).ok()
    }
}

/// How a struct field is read from and written to an element.
pub trait Field: Sized {
    /// Reads the field named `name` among the children of `e` (in `e`'s namespace).
    fn read(e: &Element, name: &str) -> Result<Self, ParseError>;
    /// Appends the field to a property list.
    fn write(&self, name: &str, p: &mut Properties);
}

impl<T: Scalar> Field for Option<T> {
    fn read(e: &Element, name: &str) -> Result<Self, ParseError> {
        match e.child(&e.ns, name) {
            None => Ok(None),
            Some(c) if c.is_nil() => Ok(None),
            Some(c) => T::parse_text(&c.text).map(Some).ok_or_else(|| ParseError::BadValue {
                field: name.to_owned(),
                value: c.text.clone(),
            }),
        }
    }
    fn write(&self, name: &str, p: &mut Properties) {
        if let Some(v) = self {
            p.push(name, Value::Text(v.to_text()));
        }
    }
}

impl<T: Scalar> Field for Vec<T> {
    fn read(e: &Element, name: &str) -> Result<Self, ParseError> {
        e.children_named(&e.ns, name)
            .filter(|c| !c.is_nil())
            .map(|c| {
                T::parse_text(&c.text).ok_or_else(|| ParseError::BadValue {
                    field: name.to_owned(),
                    value: c.text.clone(),
                })
            })
            .collect()
    }
    fn write(&self, name: &str, p: &mut Properties) {
        for v in self {
            p.push(name, Value::Text(v.to_text()));
        }
    }
}

impl Field for Option<EndpointReference> {
    fn read(e: &Element, name: &str) -> Result<Self, ParseError> {
        Ok(e.child(&e.ns, name).and_then(EndpointReference::from_element))
    }
    fn write(&self, name: &str, p: &mut Properties) {
        if let Some(v) = self {
            p.push(name, Value::Epr(v.clone()));
        }
    }
}

impl Field for Vec<EndpointReference> {
    fn read(e: &Element, name: &str) -> Result<Self, ParseError> {
        Ok(e.children_named(&e.ns, name)
            .filter_map(EndpointReference::from_element)
            .collect())
    }
    fn write(&self, name: &str, p: &mut Properties) {
        for v in self {
            p.push(name, Value::Epr(v.clone()));
        }
    }
}

impl Field for Option<CimDateTime> {
    fn read(e: &Element, name: &str) -> Result<Self, ParseError> {
        Ok(e.child(&e.ns, name).map(|c| {
            CimDateTime(
                c.child(ns::COMMON, "Datetime")
                    .map(|d| d.text.trim().to_owned())
                    .unwrap_or_else(|| c.text.trim().to_owned()),
            )
        }))
    }
    fn write(&self, name: &str, p: &mut Properties) {
        if let Some(v) = self {
            p.push(name, Value::Datetime(v.0.clone()));
        }
    }
}

/// Declares a struct of properties with `from_element` and `to_properties`.
///
/// ```text
/// props_struct! {
///     /// Doc.
///     pub struct Foo { /// Doc.
///         bar: Option<u32> = "Bar", }
/// }
/// ```
#[macro_export]
macro_rules! props_struct {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty = $xml:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name { $($(#[$fm])* pub $field: $ty,)* }
        impl $name {
            /// Reads the properties from an element (children in the element's namespace).
            pub fn from_element(e: &$crate::wsman::Element) -> Result<Self, $crate::wsman::ParseError> {
                Ok(Self { $($field: <$ty as $crate::models::Field>::read(e, $xml)?,)* })
            }
            /// Writes the properties in declaration order (unset options left out).
            pub fn to_properties(&self) -> $crate::wsman::Properties {
                let mut p = $crate::wsman::Properties::new();
                $(<$ty as $crate::models::Field>::write(&self.$field, $xml, &mut p);)*
                p
            }
        }
    };
}

/// A CIM/AMT/IPS class with a resource URI.
pub trait Model: Sized {
    /// Class name, e.g. `AMT_GeneralSettings`.
    const CLASS: &'static str;
    /// Full resource URI.
    fn resource_uri() -> String {
        ns::resource_uri(Self::CLASS)
    }
    /// Reads an instance element.
    fn read(e: &Element) -> Result<Self, ParseError>;
    /// Writes the instance's properties.
    fn write(&self) -> Properties;
}

/// Implements [`Model`] for a `props_struct!` type.
macro_rules! model {
    ($t:ty, $class:literal) => {
        impl $crate::models::Model for $t {
            const CLASS: &'static str = $class;
            fn read(e: &$crate::wsman::Element) -> Result<Self, $crate::wsman::ParseError> {
                <$t>::from_element(e)
            }
            fn write(&self) -> $crate::wsman::Properties {
                self.to_properties()
            }
        }
    };
}
pub(crate) use model;

props_struct! {
    /// Output of a method that returns only `ReturnValue`.
    pub struct ReturnOnly {
        /// Return code (see [`crate::status`]).
        return_value: Option<u32> = "ReturnValue",
    }
}
