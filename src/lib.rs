//! The workspace's root package: owns the examples and the integration
//! tests, holds the fuzz targets' bodies, and compiles README.md as a doctest.
#![forbid(unsafe_code)]
#![cfg_attr(doctest, doc = include_str!("../README.md"))]

pub mod fuzzing;
