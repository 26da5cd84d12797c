//! `#[derive(PgEnum)]`: a PostgreSQL enum type from a Rust enum of unit variants.

use crate::args::{self, Arg, Attr};
use crate::crate_path;
use crate::errors::Errors;
use crate::helpers::snake_case;
use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields};

pub fn derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let mut errors = Errors::default();
    let ident = &input.ident;
    let mut name = Attr::none("pg_enum", "name");
    let mut schema = Attr::none("pg_enum", "schema");
    let mut krate = Attr::none("pg_enum", "crate");
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("pg_enum")) {
        for arg in args::parse(attr, &mut errors) {
            match &arg {
                Arg::Pair(k, v) if k == "name" => {
                    let value = args::string(&mut errors, k, v).map(|s| s.value());
                    name.set(&mut errors, k, value);
                }
                Arg::Pair(k, v) if k == "schema" => {
                    let value = args::string(&mut errors, k, v).map(|s| s.value());
                    schema.set(&mut errors, k, value);
                }
                Arg::Pair(k, v) if k == "crate" => {
                    let value = crate_path::parse(&mut errors, k, v);
                    krate.set(&mut errors, k, value);
                }
                _ => args::unknown(&mut errors, "pg_enum", &arg, &["name", "schema", "crate"]),
            }
        }
    }
    let name = name
        .get()
        .unwrap_or_else(|| snake_case(&ident.unraw().to_string()));
    let schema = schema.get().unwrap_or_else(|| "public".to_string());
    let mut values: Vec<String> = Vec::new();
    match &input.data {
        Data::Enum(e) => {
            if e.variants.is_empty() {
                errors.at(ident, "#[derive(PgEnum)] needs at least one variant");
            }
            for v in &e.variants {
                if !matches!(v.fields, Fields::Unit) {
                    errors.at(v, "#[derive(PgEnum)] variants carry no data: a PostgreSQL enum value is a label");
                }
                let mut rename = Attr::none("pg_enum", "rename");
                for attr in v.attrs.iter().filter(|a| a.path().is_ident("pg_enum")) {
                    for arg in args::parse(attr, &mut errors) {
                        match &arg {
                            Arg::Pair(k, val) if k == "rename" => {
                                let label = args::string(&mut errors, k, val).map(|s| s.value());
                                rename.set(&mut errors, k, label);
                            }
                            _ => args::unknown(&mut errors, "pg_enum", &arg, &["rename"]),
                        }
                    }
                }
                let value = rename
                    .get()
                    .unwrap_or_else(|| snake_case(&v.ident.unraw().to_string()));
                if values.contains(&value) {
                    errors.at(v, format!("two variants have the label \"{value}\": rename one with #[pg_enum(rename = \"...\")]"));
                }
                values.push(value);
            }
        }
        _ => errors.at(ident, "#[derive(PgEnum)] works on enums of unit variants"),
    }
    if !errors.is_empty() {
        return errors.into_compile_errors();
    }
    // sqlx resolves the type by name; `schema.name` for types outside `public`.
    let type_name = if schema == "public" {
        name.clone()
    } else {
        format!("{schema}.{name}")
    };
    let variants: Vec<&syn::Ident> = match &input.data {
        Data::Enum(e) => e.variants.iter().map(|v| &v.ident).collect(),
        _ => Vec::new(),
    };
    let enum_name = format!("{schema}.{name}");
    let expansion = quote! {
        impl #ident {
            /// The PostgreSQL label of this value.
            pub const fn label(&self) -> &'static str {
                match self {
                    #(Self::#variants => #values,)*
                }
            }
        }
        impl ::pgrls::__private::sqlx::Type<::pgrls::__private::sqlx::Postgres> for #ident {
            fn type_info() -> ::pgrls::__private::sqlx::postgres::PgTypeInfo {
                ::pgrls::__private::sqlx::postgres::PgTypeInfo::with_name(#type_name)
            }
        }
        impl ::pgrls::__private::sqlx::postgres::PgHasArrayType for #ident {
            fn array_type_info() -> ::pgrls::__private::sqlx::postgres::PgTypeInfo {
                ::pgrls::__private::sqlx::postgres::PgTypeInfo::array_of(#type_name)
            }
        }
        impl<'q> ::pgrls::__private::sqlx::Encode<'q, ::pgrls::__private::sqlx::Postgres> for #ident {
            fn encode_by_ref(
                &self,
                buf: &mut ::pgrls::__private::sqlx::postgres::PgArgumentBuffer,
            ) -> ::core::result::Result<::pgrls::__private::sqlx::encode::IsNull, ::pgrls::__private::sqlx::error::BoxDynError> {
                <&str as ::pgrls::__private::sqlx::Encode<'q, ::pgrls::__private::sqlx::Postgres>>::encode(self.label(), buf)
            }
        }
        impl<'r> ::pgrls::__private::sqlx::Decode<'r, ::pgrls::__private::sqlx::Postgres> for #ident {
            fn decode(
                value: ::pgrls::__private::sqlx::postgres::PgValueRef<'r>,
            ) -> ::core::result::Result<Self, ::pgrls::__private::sqlx::error::BoxDynError> {
                match <&str as ::pgrls::__private::sqlx::Decode<'r, ::pgrls::__private::sqlx::Postgres>>::decode(value)? {
                    #(#values => ::core::result::Result::Ok(Self::#variants),)*
                    other => ::core::result::Result::Err(::std::format!("{other:?} is not a label of the enum {}", #enum_name).into()),
                }
            }
        }
        impl ::pgrls::ColumnType for #ident {
            const SQL_TYPE: ::pgrls::model::SqlType = ::pgrls::model::SqlType {
                name: ::pgrls::model::TypeName::Enum(Self::__RLS_ENUM_TYPE),
                array: false,
            };
        }
        impl ::pgrls::model::ArrayElement for #ident {
            const VEC_TYPE: ::pgrls::model::SqlType = ::pgrls::model::SqlType {
                name: ::pgrls::model::TypeName::Enum(Self::__RLS_ENUM_TYPE),
                array: true,
            };
        }
        impl #ident {
            #[doc(hidden)]
            const __RLS_ENUM_TYPE: ::pgrls::model::EnumType = {
                use ::pgrls::__private::*;
                EnumType {
                    schema: B(#schema),
                    name: B(#name),
                    values: B(&[#(B(#values)),*]),
                }
            };
        }
    };
    crate_path::rewrite(expansion, krate.get().as_ref())
}
