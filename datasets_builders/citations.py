"""Licences and BibTeX citations of the built datasets, carried in the card's YAML, the manifest and
the schema metadata of every Parquet shard (key ``vgbench``), not only in the card's prose.

A synthetic build (sources written by ``vgbench synth``) contains no COCO or RefCOCO material: it
claims no CC BY licence and cites nothing but says it is synthetic.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BIBTEX", "SYNTHETIC_LICENSE", "dataset_info", "keys_for"]

BIBTEX: dict[str, str] = {
    "lin2014microsoft": """@inproceedings{lin2014microsoft,
  title = {Microsoft {COCO}: Common Objects in Context},
  author = {Lin, Tsung-Yi and Maire, Michael and Belongie, Serge and Hays, James and Perona, Pietro and Ramanan, Deva and Doll{\\'a}r, Piotr and Zitnick, C. Lawrence},
  booktitle = {European Conference on Computer Vision (ECCV)},
  year = {2014}
}""",
    "kazemzadeh2014referitgame": """@inproceedings{kazemzadeh2014referitgame,
  title = {{ReferItGame}: Referring to Objects in Photographs of Natural Scenes},
  author = {Kazemzadeh, Sahar and Ordonez, Vicente and Matten, Mark and Berg, Tamara L.},
  booktitle = {Conference on Empirical Methods in Natural Language Processing (EMNLP)},
  year = {2014}
}""",
    "yu2016modeling": """@inproceedings{yu2016modeling,
  title = {Modeling Context in Referring Expressions},
  author = {Yu, Licheng and Poirson, Patrick and Yang, Shan and Berg, Alexander C. and Berg, Tamara L.},
  booktitle = {European Conference on Computer Vision (ECCV)},
  year = {2016}
}""",
    "mao2016generation": """@inproceedings{mao2016generation,
  title = {Generation and Comprehension of Unambiguous Object Descriptions},
  author = {Mao, Junhua and Huang, Jonathan and Toshev, Alexander and Camburu, Oana and Yuille, Alan and Murphy, Kevin},
  booktitle = {IEEE Conference on Computer Vision and Pattern Recognition (CVPR)},
  year = {2016}
}""",
    "nagaraja2016modeling": """@inproceedings{nagaraja2016modeling,
  title = {Modeling Context Between Objects for Referring Expression Understanding},
  author = {Nagaraja, Varun K. and Morariu, Vlad I. and Davis, Larry S.},
  booktitle = {European Conference on Computer Vision (ECCV)},
  year = {2016}
}""",
    "liu2023gres": """@inproceedings{liu2023gres,
  title = {{GRES}: Generalized Referring Expression Segmentation},
  author = {Liu, Chang and Ding, Henghui and Jiang, Xudong},
  booktitle = {IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},
  year = {2023}
}""",
    "hu2023beyond": """@inproceedings{hu2023beyond,
  title = {Beyond One-to-One: Rethinking the Referring Image Segmentation},
  author = {Hu, Yutao and Wang, Qixiong and Shao, Wenqi and Xie, Enze and Li, Zhenguo and Han, Jungong and Luo, Ping},
  booktitle = {IEEE/CVF International Conference on Computer Vision (ICCV)},
  year = {2023}
}""",
    "wu2024towards": """@article{wu2024towards,
  title = {Towards Robust Referring Image Segmentation},
  author = {Wu, Jianzong and Li, Xiangtai and Li, Xia and Ding, Henghui and Tong, Yunhai and Tao, Dacheng},
  journal = {IEEE Transactions on Image Processing},
  year = {2024}
}""",
}

_BY_DATASET = {
    "refcoco": ("kazemzadeh2014referitgame", "yu2016modeling"),
    "refcocoplus": ("kazemzadeh2014referitgame", "yu2016modeling"),
    "refcocog": ("mao2016generation", "nagaraja2016modeling"),
    "grefcoco": ("liu2023gres",),
    "refzom": ("hu2023beyond",),
    "rrefcoco": ("wu2024towards",),
    "rrefcocoplus": ("wu2024towards",),
    "rrefcocog": ("wu2024towards",),
    "refmix": ("kazemzadeh2014referitgame", "yu2016modeling", "mao2016generation", "nagaraja2016modeling"),
}
REAL_LICENSE = "cc-by-4.0"
REAL_LICENSE_TEXT = (
    "COCO annotations: CC BY 4.0 (COCO Consortium). Referring expressions: see the dataset papers. "
    "Images keep their Flickr licences."
)
SYNTHETIC_LICENSE = "other"
SYNTHETIC_LICENSE_TEXT = (
    "Synthetic data written by vgbench synth (coloured shapes, grammar sentences): no COCO or "
    "RefCOCO material, so no CC BY licence is claimed; it is covered by the vgbench licence."
)


def keys_for(datasets_in_build: list[str]) -> list[str]:
    """BibTeX keys for the given dataset names (COCO first), without repeats."""
    keys = ["lin2014microsoft"]
    for d in datasets_in_build:
        keys += [k for k in _BY_DATASET.get(d, ()) if k not in keys]
    return keys


def dataset_info(datasets_in_build: list[str], synthetic: bool) -> dict[str, Any]:
    """``{synthetic, license, license_text, citation}`` (citation: BibTeX, empty for synthetic data)."""
    if synthetic:
        return {
            "synthetic": True,
            "license": SYNTHETIC_LICENSE,
            "license_text": SYNTHETIC_LICENSE_TEXT,
            "citation": "",
        }
    return {
        "synthetic": False,
        "license": REAL_LICENSE,
        "license_text": REAL_LICENSE_TEXT,
        "citation": "\n\n".join(BIBTEX[k] for k in keys_for(datasets_in_build)),
    }
