//! `#[derive(PgEnum)]`: a PostgreSQL enum type from a Rust enum of unit variants.

use crate::args::{self, Arg};
use crate::errors::Errors;
use crate::table::snake_case;
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
    let mut name = snake_case(&ident.unraw().to_string());
    let mut schema = "public".to_string();
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("pg_enum")) {
        for arg in args::parse(attr, &mut errors) {
            match &arg {
                Arg::Pair(k, v) if k == "name" => {
                    if let Some(s) = args::string(&mut errors, k, v) {
                        name = s.value();
                    }
                }
                Arg::Pair(k, v) if k == "schema" => {
                    if let Some(s) = args::string(&mut errors, k, v) {
                        schema = s.value();
                    }
                }
                _ => args::unknown(&mut errors, "pg_enum", &arg, &["name", "schema"]),
            }
        }
    }
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
                let mut value = snake_case(&v.ident.unraw().to_string());
                for attr in v.attrs.iter().filter(|a| a.path().is_ident("pg_enum")) {
                    for arg in args::parse(attr, &mut errors) {
                        match &arg {
                            Arg::Pair(k, val) if k == "rename" => {
                                if let Some(s) = args::string(&mut errors, k, val) {
                                    value = s.value();
                                }
                            }
                            _ => args::unknown(&mut errors, "pg_enum", &arg, &["rename"]),
                        }
                    }
                }
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
    quote! {
        impl ::rls::ColumnType for #ident {
            const SQL_TYPE: ::rls::model::SqlType = ::rls::model::SqlType {
                name: ::rls::model::TypeName::Enum(Self::__RLS_ENUM_TYPE),
                array: false,
            };
        }
        impl ::rls::model::ArrayElement for #ident {
            const VEC_TYPE: ::rls::model::SqlType = ::rls::model::SqlType {
                name: ::rls::model::TypeName::Enum(Self::__RLS_ENUM_TYPE),
                array: true,
            };
        }
        impl #ident {
            #[doc(hidden)]
            const __RLS_ENUM_TYPE: ::rls::model::EnumType = {
                use ::rls::__private::*;
                EnumType {
                    schema: B(#schema),
                    name: B(#name),
                    values: B(&[#(B(#values)),*]),
                }
            };
        }
    }
}
