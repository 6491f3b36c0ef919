"""The SCoPe label hierarchy, for turning one class name per source into label columns.

A labelled list that names a single class per source (``RR Lyrae ab``) says more than that: the
source is also an RR Lyrae, a pulsator, periodic and variable. :data:`PARENTS` holds those
implications between training-set label columns (the keys of ``golden_dataset_mapper.json``):
the phenomenological tree of the reference taxonomy (variable > periodic > eclipsing > EA ...;
non-variable > bogus > blend ...) and the ontological classes, each linked to its ontological
parent and to the phenomenological labels that always apply to it (an RR Lyrae ab is periodic
and sawtooth-shaped). :func:`implied_labels` follows the links to the root.
"""

from __future__ import annotations

from typing import Iterable

PARENTS: dict[str, tuple[str, ...]] = {
    # phenomenological
    "periodic": ("variable",),
    "irregular": ("variable",),
    "sinusoidal": ("periodic",),
    "sawtooth": ("periodic",),
    "multi periodic": ("periodic",),
    "long timescale": ("periodic",),
    "eclipsing": ("periodic",),
    "wrong period": ("periodic",),
    "ellipsoidal": ("sinusoidal",),
    "EA": ("eclipsing",),
    "EB": ("eclipsing",),
    "EW": ("eclipsing",),
    "half period": ("wrong period",),
    "double period": ("wrong period",),
    "flaring": ("irregular",),
    "dipping": ("irregular",),
    "bogus": ("non-variable",),
    "extended": ("bogus",),
    "blend": ("bogus",),
    "bright star": ("bogus",),
    "ccd artifact": ("bogus",),
    # ontological
    "pulsator": ("variable",),
    "RR Lyrae": ("pulsator", "periodic"),
    "RR Lyrae ab": ("RR Lyrae", "sawtooth"),
    "RR Lyrae c": ("RR Lyrae", "sinusoidal"),
    "RR Lyrae d": ("RR Lyrae", "multi periodic"),
    "RR Lyrae Blazhko": ("RR Lyrae",),
    "Cepheid": ("pulsator", "periodic"),
    "Cepheid type-II": ("Cepheid",),
    "BL Her": ("Cepheid type-II",),
    "W Virginis": ("Cepheid type-II",),
    "RV Tau": ("Cepheid type-II",),
    "F": ("Cepheid",),
    "O": ("Cepheid",),
    "Delta Scu": ("pulsator", "periodic"),
    "LPV": ("pulsator", "long timescale"),
    "Mira": ("LPV",),
    "SRV": ("LPV",),
    "OSARG": ("LPV",),
    "binary star": ("variable",),
    "W UMa": ("binary star", "EW"),
    "Beta Lyr": ("binary star", "EB"),
    "detached eclipsing MS-MS": ("binary star", "EA"),
    "RS CVn": ("binary star",),
    "compact binary": ("binary star",),
    "eclipsing WD+dM (NN Ser)": ("compact binary", "EA"),
    "eclipsing sdB+dM (HW Vir)": ("compact binary", "eclipsing"),
    "Redback pulsar": ("compact binary",),
    "CV": ("variable",),
    "YSO": ("irregular",),
    "AGN": ("irregular",),
}

# Common spellings of class names in labelled lists -> label column (matched case-insensitively,
# with spaces, '-' and '_' ignored); tags of training.classes and mapper names are added at use.
ALIASES: dict[str, str] = {
    "nonvar": "non-variable", "nonvariable": "non-variable", "constant": "non-variable", "nv": "non-variable",
    "var": "variable",
    "rrlyrae": "RR Lyrae", "rrl": "RR Lyrae", "rrlab": "RR Lyrae ab", "rrlc": "RR Lyrae c",
    "dsct": "Delta Scu", "deltascuti": "Delta Scu", "dscuti": "Delta Scu",
    "cepheid": "Cepheid", "cep": "Cepheid", "dcep": "Cepheid", "t2cep": "Cepheid type-II",
    "mira": "Mira", "lpv": "LPV", "sr": "SRV",
    "eclipsingbinary": "eclipsing", "eb": "EB", "ea": "EA", "ew": "EW", "wuma": "W UMa",
    "detached": "EA", "semidetached": "EB", "contact": "EW",
    "flare": "flaring", "flarestar": "flaring", "dipper": "dipping",
    "agn": "AGN", "qso": "AGN", "yso": "YSO", "cv": "CV", "cataclysmic": "CV",
}


def normalize_name(name: str) -> str:
    """Case-insensitive key of a class name with spaces, ``-`` and ``_`` removed."""
    return "".join(ch for ch in str(name).lower() if ch not in " -_")


def implied_labels(labels: Iterable[str]) -> set[str]:
    """``labels`` plus every ancestor in :data:`PARENTS`."""
    out: set[str] = set()
    stack = list(labels)
    while stack:
        lab = stack.pop()
        if lab in out:
            continue
        out.add(lab)
        stack.extend(PARENTS.get(lab, ()))
    return out
