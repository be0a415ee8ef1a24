//! The flavors (server sizes) each region offers.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flavor {
    pub id: &'static str,
    pub vcpus: u32,
    pub memory_mb: i64,
    pub architecture: &'static str,
    /// Heterogeneous flavors (GPU) cannot boot UEFI private images.
    pub gpu: bool,
    pub regions: &'static [&'static str],
}

const BOTH: &[&str] = &["cn-north-4", "ap-southeast-1"];
const BEIJING: &[&str] = &["cn-north-4"];

pub const FLAVORS: &[Flavor] = &[
    Flavor { id: "s6.small.1", vcpus: 1, memory_mb: 1024, architecture: "x86", gpu: false, regions: BOTH },
    Flavor { id: "s6.medium.2", vcpus: 1, memory_mb: 2048, architecture: "x86", gpu: false, regions: BOTH },
    Flavor { id: "s6.large.2", vcpus: 2, memory_mb: 4096, architecture: "x86", gpu: false, regions: BOTH },
    Flavor { id: "c6.xlarge.2", vcpus: 4, memory_mb: 8192, architecture: "x86", gpu: false, regions: BOTH },
    Flavor { id: "m6.2xlarge.8", vcpus: 8, memory_mb: 65536, architecture: "x86", gpu: false, regions: BOTH },
    Flavor { id: "kc1.large.2", vcpus: 2, memory_mb: 4096, architecture: "arm", gpu: false, regions: BEIJING },
    Flavor { id: "kc1.xlarge.4", vcpus: 4, memory_mb: 16384, architecture: "arm", gpu: false, regions: BEIJING },
    Flavor { id: "p2s.2xlarge.8", vcpus: 8, memory_mb: 65536, architecture: "x86", gpu: true, regions: BOTH },
    Flavor { id: "g6.xlarge.4", vcpus: 4, memory_mb: 16384, architecture: "x86", gpu: true, regions: BEIJING },
];

/// The flavors of `region`.
pub fn region_flavors(region: &str) -> Vec<Flavor> {
    FLAVORS.iter().filter(|flavor| flavor.regions.contains(&region)).cloned().collect()
}

/// A flavor offered in `region`.
pub fn find_flavor(region: &str, id: &str) -> Option<&'static Flavor> {
    FLAVORS.iter().find(|flavor| flavor.id == id && flavor.regions.contains(&region))
}

impl Flavor {
    /// "2 vCPUs | 4 GiB", as the console's flavor column shows it.
    pub fn summary(&self) -> String {
        let plural = if self.vcpus == 1 { "" } else { "s" };
        let memory = if self.memory_mb % 1024 == 0 {
            format!("{} GiB", self.memory_mb / 1024)
        } else {
            format!("{} MiB", self.memory_mb)
        };
        let kind = match (self.architecture, self.gpu) {
            (_, true) => " | GPU",
            ("arm", _) => " | Arm",
            _ => "",
        };
        format!("{} vCPU{plural} | {memory}{kind}", self.vcpus)
    }
}
