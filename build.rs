// Rebuild when the embedded pages or the migrations change.
fn main() {
    println!("cargo:rerun-if-changed=web");
    println!("cargo:rerun-if-changed=migrations");
}
