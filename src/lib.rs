//! Owns the examples and integration tests; also compiles README.md as a doctest.
#![forbid(unsafe_code)]
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
