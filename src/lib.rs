//! The workspace's root package: owns the examples and the integration
//! tests, holds the fuzz targets' bodies, and compiles README.md and the
//! guide's chapters (docs/guide/) as doctests.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]

pub mod fuzzing;

/// The guide's chapters, compiled as doctests.
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../docs/guide/keys.md")]
    mod keys {}
    #[doc = include_str!("../docs/guide/cli.md")]
    mod cli {}
    #[doc = include_str!("../docs/guide/types.md")]
    mod types {}
    #[doc = include_str!("../docs/guide/integrity.md")]
    mod integrity {}
    #[doc = include_str!("../docs/guide/services.md")]
    mod services {}
    #[doc = include_str!("../docs/guide/protobuf.md")]
    mod protobuf {}
    #[doc = include_str!("../docs/guide/events-and-databases.md")]
    mod events_and_databases {}
    #[doc = include_str!("../docs/guide/python.md")]
    mod python {}
    #[doc = include_str!("../docs/guide/migration.md")]
    mod migration {}
    #[doc = include_str!("../docs/guide/operations.md")]
    mod operations {}
}
