"""Sphinx configuration of the skmtl documentation (builds offline)."""

import os
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import skmtl  # noqa: E402

project = "skmtl"
author = "skmtl developers"
copyright = "skmtl developers, BSD-3-Clause"
release = skmtl.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# --- no network: no intersphinx, no remote images --------------------------
# (``sphinx.ext.intersphinx`` is deliberately not enabled. MathJax is loaded
# by the reader's browser when a page is viewed, never at build time.)

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb"]
root_doc = "index"
default_role = "literal"
nitpicky = False

# --- autodoc / autosummary / numpydoc ---------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

# --- sphinx-gallery ---------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # run every plot_*.py example
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "plot_gallery": "True",
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("skmtl",),
    "reference_url": {"skmtl": None},
    "show_memory": False,
    "min_reported_time": 1,
}

# warnings raised by the examples themselves must not clutter the build log
warnings.filterwarnings(
    "ignore",
    category=UserWarning,
    message="Matplotlib is currently using agg",
)

# --- HTML -------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"skmtl {release}"
html_static_path = []
html_theme_options = {
    "description": "Multi-task learning for scikit-learn",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "240px",
}
html_sidebars = {
    "**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]
}
html_show_sourcelink = False
