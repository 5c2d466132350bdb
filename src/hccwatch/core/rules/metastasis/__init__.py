"""The metastasis pathway: suspicion, red flags, likely sites, risk factors and workup."""
