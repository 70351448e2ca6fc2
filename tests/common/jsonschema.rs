//! JSON Schema validation with Python's `jsonschema` (draft 2020-12, the
//! dialect of OpenAPI 3.1), in the tests' Python environment.

use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// Whether each instance is valid against `schema`.
pub fn validate(schema: &Value, instances: &[Value]) -> Vec<bool> {
    const SCRIPT: &str = "import json, sys\n\
        from jsonschema import Draft202012Validator\n\
        job = json.load(sys.stdin)\n\
        Draft202012Validator.check_schema(job['schema'])\n\
        v = Draft202012Validator(job['schema'])\n\
        print(json.dumps([v.is_valid(i) for i in job['instances']]))\n";
    let mut child = Command::new(testkit::python().expect("a Python with the tests' packages"))
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let job = json!({ "schema": schema, "instances": instances });
    serde_json::to_writer(child.stdin.take().unwrap(), &job).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "jsonschema failed");
    serde_json::from_slice(&output.stdout).unwrap()
}
