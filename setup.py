"""Packaging details pyproject.toml cannot say: templates/ and static/ stay at the project's top level in the
source tree and go into the wheel as coordinator/templates and coordinator/static (create_app finds them in
either place, see config.RESOURCE_ROOT); the translation catalogs (.po) are compiled into the wheel's .mo files
at build time, so a built package speaks English without `pybabel compile`."""
from pathlib import Path

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py

RESOURCES = {"coordinator.templates": "templates", "coordinator.static": "static"}
# Every folder of templates is a package of its own (setuptools takes data folders as packages).
RESOURCE_PACKAGES = [f"{package}.{sub}" if sub else package for package, folder in RESOURCES.items()
                     for sub in ["", *find_namespace_packages(where=folder, exclude=["*__pycache__*"])]]


class BuildWithCatalogs(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # an editable install reads the source tree, where ./dev compiles the catalogs
            return
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in sorted(Path("coordinator/translations").glob("*/LC_MESSAGES/messages.po")):
            target = Path(self.build_lib) / po.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parts[-3])
            with target.open("wb") as out:
                write_mo(out, catalog)


setup(
    packages=find_namespace_packages(include=["coordinator*"], exclude=["*__pycache__*"]) + RESOURCE_PACKAGES,
    package_dir=RESOURCES,
    package_data={
        "coordinator": ["fonts/*", "registry/data/*", "migrations/*", "migrations/versions/*",
                        "translations/*/LC_MESSAGES/*"],
        **{package: ["*"] for package in RESOURCE_PACKAGES},
    },
    cmdclass={"build_py": BuildWithCatalogs},
)
