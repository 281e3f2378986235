//! Writes the step fn: same name, visibility and ports; its body records a node.

use std::path::Path;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::StepModel;
use super::parse::OutputMode;

fn opt_str(v: &Option<String>) -> TokenStream {
    match v {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    }
}

pub fn expand(m: &StepModel) -> TokenStream {
    let rt = &m.rt;
    let item = m.item;
    let attrs = &item.attrs;
    let vis = &item.vis;
    let ident = &item.sig.ident;
    let def = syn::Ident::new("__STEP", Span::mixed_site());
    let step = syn::Ident::new("__step", Span::mixed_site());
    let call = syn::Ident::new("__call", Span::mixed_site());
    let outs = syn::Ident::new("__outputs", Span::mixed_site());

    let name = &m.name;
    let display_name = opt_str(&m.display_name);
    let description = opt_str(&m.description);
    let command = &m.command;
    let kind = m.kind.tokens(rt);
    let script = opt_str(&m.script);
    let source_dir = opt_str(&m.source_dir);
    let compute = opt_str(&m.compute);
    let environment = match &m.environment {
        Some(e) => quote!(::core::option::Option::Some(#e)),
        None => quote!(::core::option::Option::None),
    };
    let reuse = m.reuse;
    let instance_count = match m.instance_count {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    };
    let env = m.env.iter().map(|(k, v)| quote!((#k, #v)));
    let instance_type = opt_str(&m.instance_type);
    let shm_size = opt_str(&m.shm_size);
    let docker_args = opt_str(&m.docker_args);
    let timeout = match m.timeout {
        Some(t) => quote!(::core::option::Option::Some(#t)),
        None => quote!(::core::option::Option::None),
    };

    // Ports: params take `impl IntoParam<T>` so plain values work; data keeps the user's type.
    let mut params = Vec::new();
    let mut input_defs = Vec::new();
    let mut binds = Vec::new();
    for p in &m.inputs {
        let pid = &p.ident;
        let ty = &p.ty;
        let attrs = &p.other_attrs;
        let pname = &p.name;
        let mode = match p.mode {
            Some(mode) => {
                let t = mode.tokens(rt);
                quote!(::core::option::Option::Some(#t))
            }
            None => quote!(::core::option::Option::None),
        };
        // A parameter's type is checked as a `ParamValue` directly, so a `Param<u8>` gets that
        // trait's message alone, without a detour through `InputPort`.
        let port_type = match &p.param_of {
            Some(inner) => quote_spanned!(ty.span()=>
                #rt::PortType::Param(<#inner as #rt::ParamValue>::PARAM_TYPE)
            ),
            None => quote_spanned!(ty.span()=> <#ty as #rt::InputPort>::PORT_TYPE),
        };
        let rules = p.rules.tokens(rt, p.param_of.as_ref(), p.optional);
        input_defs.push(quote! {
            #rt::InputDef { name: #pname, ty: #port_type, mode: #mode, rules: #rules }
        });
        let value = syn::Ident::new("__value", Span::mixed_site());
        let written = &p.written_ty;
        match &p.param_of {
            Some(inner) if p.optional => {
                params.push(quote!(#(#attrs)* #pid: #written));
                binds.push(quote! {
                    #call.bind(match #pid {
                        ::core::option::Option::Some(#value) => #rt::param_port::<#inner, _>(#value),
                        ::core::option::Option::None => #rt::unbound_port(),
                    });
                });
            }
            None if p.optional => {
                params.push(quote!(#(#attrs)* #pid: #written));
                binds.push(quote_spanned! {ty.span()=>
                    #call.bind(match &#pid {
                        ::core::option::Option::Some(#value) => <#ty as #rt::InputPort>::__port(#value),
                        ::core::option::Option::None => #rt::unbound_port(),
                    });
                });
            }
            Some(inner) => {
                params.push(quote!(#(#attrs)* #pid: impl #rt::IntoParam<#inner>));
                binds.push(quote!(#call.bind(#rt::param_port::<#inner, _>(#pid));));
            }
            None => {
                params.push(quote!(#(#attrs)* #pid: #ty));
                binds.push(
                    quote_spanned!(ty.span()=> #call.bind(<#ty as #rt::InputPort>::__port(&#pid));),
                );
            }
        }
    }
    let output_defs = m.outputs.iter().map(|o| {
        let oname = &o.name;
        let ty = &o.ty;
        let asset = quote_spanned!(ty.span()=> <#ty as #rt::OutputPort>::ASSET_TYPE);
        let mode = match o.mode {
            Some(OutputMode::ReadWriteMount) => {
                quote!(::core::option::Option::Some(#rt::OutputMode::ReadWriteMount))
            }
            Some(OutputMode::Upload) => {
                quote!(::core::option::Option::Some(#rt::OutputMode::Upload))
            }
            None => quote!(::core::option::Option::None),
        };
        quote!(#rt::OutputDef { name: #oname, ty: #asset, mode: #mode })
    });
    let handles: Vec<TokenStream> = m
        .outputs
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let ty = &o.ty;
            quote_spanned!(ty.span()=> <#ty as #rt::OutputPort>::__from_port(#outs[#i]))
        })
        .collect();
    let result = if m.ret_is_tuple {
        quote!((#(#handles,)*))
    } else if let Some(h) = handles.first() {
        quote!(#h)
    } else {
        // A step without outputs returns `()`: nothing to write (clippy's `unused_unit`).
        quote!()
    };
    let output = &item.sig.output;
    let tracked = m.tracked.iter().map(|rel| {
        quote! {
            const _: &[u8] = ::core::include_bytes!(::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), "/", #rel));
        }
    });

    // The snapshot folder is embedded so that a binary copied elsewhere still has it; while the
    // crate's folder exists, it is used instead (`step_root`).
    let tree = syn::Ident::new("__EMBEDDED", Span::mixed_site());
    let embedded = m
        .source_dir
        .as_deref()
        .and_then(|dir| embed(dir, STEP_FOLDER));
    let (tree_static, manifest_dir) = match &embedded {
        Some(e) => (
            tree_static(rt, &tree, e),
            quote!(#rt::step_root(::core::env!("CARGO_MANIFEST_DIR"), &#tree)),
        ),
        None => (quote!(), quote!(::core::env!("CARGO_MANIFEST_DIR"))),
    };

    let items = &m.items;
    quote! {
        #(#attrs)*
        #vis fn #ident(#(#params),*) #output {
            #items
            #tree_static
            static #def: ::std::sync::OnceLock<#rt::StepDef> = ::std::sync::OnceLock::new();
            let #step = #def.get_or_init(|| #rt::StepDef {
                name: #name,
                display_name: #display_name,
                description: #description,
                kind: #kind,
                command: #command,
                script: #script,
                source_dir: #source_dir,
                manifest_dir: #manifest_dir,
                compute: #compute,
                environment: #environment,
                reuse: #reuse,
                instance_count: #instance_count,
                instance_type: #instance_type,
                shm_size: #shm_size,
                docker_args: #docker_args,
                timeout: #timeout,
                environment_variables: &[#(#env),*],
                inputs: &[#(#input_defs),*],
                outputs: &[#(#output_defs),*],
            });
            #(#tracked)*
            let mut #call = #rt::StepCall::new(#step);
            #(#binds)*
            let #outs = #call.finish();
            let _ = &#outs;
            #result
        }
    }
}

/// The files of a step folder or data default, read when the crate is built, to be embedded in
/// the binary (see the runtime's `embedded` module: a binary copied elsewhere unpacks them).
pub(crate) struct Embedded {
    /// The folder or file as written, relative to the crate folder.
    root: String,
    /// `(path relative to the crate folder, permission bits)`, sorted.
    files: Vec<(String, u32)>,
    /// A key for the content: FNV-1a (128 bits) of every path, mode and byte.
    key: String,
}

/// Limits on what is embedded: more than this is left to be shipped next to the binary.
#[derive(Clone, Copy)]
pub(crate) struct EmbedLimits {
    pub bytes: u64,
    pub files: usize,
}

/// A step folder: 64 MiB, 5,000 files.
pub(crate) const STEP_FOLDER: EmbedLimits = EmbedLimits {
    bytes: 64 << 20,
    files: 5_000,
};

/// A pipeline's data default: 16 MiB.
pub(crate) const DATA_DEFAULT: EmbedLimits = EmbedLimits {
    bytes: 16 << 20,
    files: 1_000,
};

/// Reads `root` (relative to `CARGO_MANIFEST_DIR`) for embedding; `None` when it does not
/// exist, cannot be read whole, or is over `limits` (then nothing is embedded and the binary
/// needs the path where the build found it).
pub(crate) fn embed(root: &str, limits: EmbedLimits) -> Option<Embedded> {
    let manifest = std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    let rel = root.trim_end_matches('/');
    if rel.is_empty() || Path::new(rel).is_absolute() || rel.split('/').any(|c| c == "..") {
        return None;
    }
    let full = manifest.join(rel);
    let meta = std::fs::metadata(&full).ok()?;
    let mut files = Vec::new();
    let mut bytes = 0u64;
    if meta.is_file() {
        files.push((rel.to_owned(), mode(&meta)));
        bytes = meta.len();
    } else if meta.is_dir() {
        let ignore = SimpleIgnore::read(&full);
        walk(&full, rel, &ignore, 0, &mut files, &mut bytes, limits)?;
    } else {
        return None;
    }
    if bytes > limits.bytes || files.len() > limits.files {
        return None;
    }
    files.sort();
    let mut key = Fnv128::new();
    for (path, m) in &files {
        let content = std::fs::read(manifest.join(path)).ok()?;
        key.write(path.as_bytes());
        key.write(&[0]);
        key.write(&m.to_le_bytes());
        key.write(&(content.len() as u64).to_le_bytes());
        key.write(&content);
    }
    Some(Embedded {
        root: rel.to_owned(),
        files,
        key: format!("{:032x}", key.0),
    })
}

fn walk(
    dir: &Path,
    rel: &str,
    ignore: &SimpleIgnore,
    depth: usize,
    files: &mut Vec<(String, u32)>,
    bytes: &mut u64,
    limits: EmbedLimits,
) -> Option<()> {
    // Deep enough for any real tree; a symlink loop stops here.
    if depth > 32 {
        return None;
    }
    for entry in std::fs::read_dir(dir).ok()? {
        let entry = entry.ok()?;
        let name = entry.file_name().into_string().ok()?;
        let path = entry.path();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let child = format!("{rel}/{name}");
        if meta.is_dir() {
            if !ignore.excludes_dir(&name) {
                walk(&path, &child, ignore, depth + 1, files, bytes, limits)?;
            }
        } else if meta.is_file() && !ignore.excludes_file(&name) {
            *bytes += meta.len();
            files.push((child, mode(&meta)));
            if *bytes > limits.bytes || files.len() > limits.files {
                return None;
            }
        }
    }
    Some(())
}

#[cfg(unix)]
fn mode(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o777
}

#[cfg(not(unix))]
fn mode(_: &std::fs::Metadata) -> u32 {
    0o644
}

/// The lines of a snapshot's root ignore file that certainly exclude a name wherever it is
/// (`name`, `name/`, `*.ext`), as Azure ML's matching reads them. Anything subtler (a `/`
/// inside, other wildcards, any `!` line) prunes nothing: embedding more than the snapshot
/// takes is harmless, since the snapshot applies the full rules to the unpacked copy.
#[derive(Default)]
struct SimpleIgnore {
    names: Vec<String>,
    dir_names: Vec<String>,
    suffixes: Vec<String>,
}

impl SimpleIgnore {
    fn read(root: &Path) -> SimpleIgnore {
        let text = [".amlignore", ".gitignore"]
            .iter()
            .map(|f| root.join(f))
            .find(|p| p.is_file())
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default();
        let mut rules = SimpleIgnore::default();
        for line in text.lines() {
            let line = line.trim_end();
            if line.starts_with('!') {
                return SimpleIgnore::default();
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (pattern, dir_only) = match line.strip_suffix('/') {
                Some(p) => (p, true),
                None => (line, false),
            };
            if pattern.is_empty() || pattern.contains(['/', '\\', '[', '?']) {
                continue;
            }
            match pattern.strip_prefix("*.") {
                Some(ext) if !dir_only && !ext.is_empty() && !ext.contains('*') => {
                    rules.suffixes.push(format!(".{ext}"))
                }
                _ if pattern.contains('*') || pattern == "." || pattern == ".." => {}
                _ if dir_only => rules.dir_names.push(pattern.to_owned()),
                _ => rules.names.push(pattern.to_owned()),
            }
        }
        rules
    }

    fn excludes_dir(&self, name: &str) -> bool {
        self.names.iter().chain(&self.dir_names).any(|n| n == name)
    }

    fn excludes_file(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name) || self.suffixes.iter().any(|s| name.ends_with(s))
    }
}

struct Fnv128(u128);

impl Fnv128 {
    fn new() -> Self {
        Fnv128(0x6c62272e07bb014262b821756295c58d)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u128::from(*b);
            self.0 = self.0.wrapping_mul(0x0000000001000000000000000000013B);
        }
    }
}

/// `static NAME: EmbeddedTree = …;` with an `include_bytes!` per file.
pub(crate) fn tree_static(rt: &TokenStream, name: &syn::Ident, e: &Embedded) -> TokenStream {
    let key = &e.key;
    let root = &e.root;
    let files = e.files.iter().map(|(path, mode)| {
        let mode = syn::LitInt::new(&format!("0o{mode:o}"), Span::call_site());
        quote! {
            #rt::EmbeddedFile {
                path: #path,
                mode: #mode,
                bytes: ::core::include_bytes!(::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), "/", #path)),
            }
        }
    });
    quote! {
        static #name: #rt::EmbeddedTree = #rt::EmbeddedTree {
            key: #key,
            root: #root,
            files: &[#(#files),*],
        };
    }
}
