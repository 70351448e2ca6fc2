//! Generates the messages of `proto/payments.proto` with `Encrypt` derived
//! from their options (encrypted-fields-build), the companion descriptor set
//! for other languages, and the three gRPC services, described here in Rust
//! because their messages are the derive's companions
//! (`EncryptedTransaction`), which no `.proto` file declares.

use tonic_prost_build::manual::{Method, Service};

fn main() -> std::io::Result<()> {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let protos = encrypted_fields_build::configure(&["proto/payments.proto"], &["proto"])?;
    protos.write_companion_descriptor_set(out.join("payments.companion.binpb"))?;
    let encrypted_fields_build::Protos {
        files, mut config, ..
    } = protos;
    config.compile_fds(files)?;

    let method = |name: &str, route: &str, input: &str, output: &str| {
        Method::builder()
            .name(name)
            .route_name(route)
            .input_type(format!("crate::model::payments::{input}"))
            .output_type(format!("crate::model::payments::{output}"))
            .codec_path("tonic_prost::ProstCodec")
            .build()
    };
    let service = |name: &str, methods: Vec<Method>| {
        let mut builder = Service::builder().name(name).package("payments");
        for m in methods {
            builder = builder.method(m);
        }
        builder.build()
    };
    let view = || method("view", "View", "TransactionId", "View");
    let row = || method("row", "Row", "TransactionId", "EncryptedTransaction");
    tonic_prost_build::manual::Builder::new().compile(&[
        service(
            "Accounts",
            vec![
                method("create", "Create", "PaymentRequest", "EncryptedTransaction"),
                method("record", "Record", "EncryptedTransaction", "TransactionId"),
                row(),
                view(),
            ],
        ),
        service(
            "Banking",
            vec![
                method("settle", "Settle", "EncryptedTransaction", "Settlement"),
                row(),
                view(),
            ],
        ),
        service(
            "Web",
            vec![
                method("pay", "Pay", "PaymentRequest", "Settlement"),
                row(),
                view(),
            ],
        ),
    ]);
    Ok(())
}
