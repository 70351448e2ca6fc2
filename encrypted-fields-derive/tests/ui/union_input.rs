use encrypted_fields::Encrypt;

#[derive(Encrypt)]
union Bits {
    a: u32,
    b: f32,
}

fn main() {}
