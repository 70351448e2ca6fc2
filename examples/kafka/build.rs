//! The protobuf topic's messages: the gRPC example's `.proto`, with
//! `Encrypt` derived from the key aliases its options declare.

fn main() -> std::io::Result<()> {
    encrypted_fields_build::compile_protos(&["../grpc/proto/payments.proto"], &["../grpc/proto"])
}
