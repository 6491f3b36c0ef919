"""Lists of the reference SCoPe's config that several tests compare with."""

# the reference's phenomenological model inputs, in its list order (alphabetical light-curve features)
REFERENCE_PHENOMENOLOGICAL = [
    "ad", "chi2red", "f1_BIC", "f1_a", "f1_amp", "f1_b", "f1_phi0", "f1_power", "f1_relamp1", "f1_relamp2",
    "f1_relamp3", "f1_relamp4", "f1_relphi1", "f1_relphi2", "f1_relphi3", "f1_relphi4", "i60r", "i70r", "i80r",
    "i90r", "inv_vonneumannratio", "iqr", "median", "median_abs_dev", "norm_excess_var", "norm_peak_to_peak_amp",
    "roms", "skew", "smallkurt", "stetson_j", "stetson_k", "sw", "welch_i", "wmean", "wstd"]
