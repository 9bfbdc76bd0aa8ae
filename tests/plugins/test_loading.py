"""Loading third-party plugins from real installed distributions, through the CLI.

Each test installs throwaway plugins into a site directory and runs ``imagec`` in a
subprocess, so discovery goes through ``importlib.metadata`` entry points as it does for
anything pip installs.
"""

from __future__ import annotations

from support.plugins import (
    ALPHA,
    ALPHA_CLONE,
    BETA,
    BROKEN,
    CRASHING,
    TYPO,
    UNMARKED,
    backends_json,
    failures,
    imagec_env,
    names,
    run_imagec,
)


def test_installed_backend_is_listed_like_a_builtin(site_with):
    listing = backends_json(env=imagec_env(site_with(ALPHA)))
    alpha = next(row for row in listing["backends"] if row["name"] == "alpha")
    assert alpha["distribution"] == "tp-alpha"
    assert alpha["version"] == "1.0"
    assert alpha["output"] == "text"
    assert alpha["ok"] is True
    assert "containerfile" in names(listing)
    assert listing["failures"] == []


def test_duplicate_backend_name_fails_naming_both_distributions(site_with):
    result = run_imagec("backends", env=imagec_env(site_with(ALPHA, ALPHA_CLONE)))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "backend 'alpha' is registered by both" in result.stderr
    assert "tp-alpha 1.0" in result.stderr
    assert "tp-alpha-clone 1.0" in result.stderr


def test_duplicate_is_resolved_by_leaving_one_out(site_with):
    env = imagec_env(site_with(ALPHA, ALPHA_CLONE), IMAGEC_PLUGINS="alpha")
    listing = backends_json(env=env)
    assert "alpha" in names(listing)
    assert next(r for r in listing["backends"] if r["name"] == "alpha")["distribution"] == (
        "tp-alpha"
    )


def test_hook_name_typo_is_reported_with_a_suggestion(site_with):
    listing = backends_json(env=imagec_env(site_with(TYPO, ALPHA)))
    assert "typo" not in names(listing)
    assert "alpha" in names(listing)
    assert failures(listing) == {
        "typo": "tp-typo: implements unknown hook imagec_register_backend "
        "(did you mean 'imagec_register_backends'?)"
    }


def test_hook_without_marker_is_reported(site_with):
    listing = backends_json(env=imagec_env(site_with(UNMARKED)))
    assert "unmarked" not in names(listing)
    assert "@imagec.hookspecs.hookimpl" in failures(listing)["unmarked"]


def test_plugin_failing_on_import_is_reported_and_others_keep_working(site_with):
    env = imagec_env(site_with(BROKEN, ALPHA))
    listing = backends_json(env=env)
    assert {"alpha", "containerfile"} <= names(listing)
    assert failures(listing) == {
        "broken": "tp-broken: ModuleNotFoundError: No module named "
        "'tp_dependency_that_is_not_installed'"
    }
    # The text listing names the failure on stderr and still succeeds.
    result = run_imagec("backends", env=env)
    assert result.returncode == 0
    assert "alpha" in result.stdout
    assert (
        "imagec: warning: plugin 'broken' (tp-broken) failed to load: ModuleNotFoundError"
        in result.stderr
    )


def test_plugin_failing_in_its_hook_is_reported_and_others_keep_working(site_with):
    listing = backends_json(env=imagec_env(site_with(CRASHING, ALPHA)))
    assert "alpha" in names(listing)
    assert failures(listing) == {
        "crashing": "tp-crashing: RuntimeError: cannot read ~/.config/crashing.toml"
    }


def test_asking_for_a_failed_plugin_says_why(site_with):
    result = run_imagec(
        "compile", "examples/quickstart", "--backend", "broken", env=imagec_env(site_with(BROKEN))
    )
    assert result.returncode == 2
    assert result.stderr.startswith("imagec: error: --backend: unknown backend 'broken'")
    assert "failed to load: ModuleNotFoundError" in result.stderr
    assert result.stderr.count("\n") == 1


def test_imagec_plugins_none_loads_only_builtins(site_with):
    site = site_with(ALPHA, BETA, BROKEN)
    listing = backends_json(env=imagec_env(site, IMAGEC_PLUGINS="none"))
    assert "containerfile" in names(listing)
    assert not names(listing) & {"alpha", "beta"}
    # Not even imported: a broken plugin that is switched off cannot fail.
    assert listing["failures"] == []


def test_imagec_plugins_limits_external_plugins(site_with):
    site = site_with(ALPHA, BETA, BROKEN)
    listing = backends_json(env=imagec_env(site, IMAGEC_PLUGINS="beta"))
    assert {"containerfile", "beta"} <= names(listing)
    assert "alpha" not in names(listing)
    assert listing["failures"] == []

    listing = backends_json(env=imagec_env(site, IMAGEC_PLUGINS=" alpha, beta "))
    assert {"alpha", "beta"} <= names(listing)


def test_imagec_plugins_naming_no_installed_plugin_is_reported(site_with):
    listing = backends_json(env=imagec_env(site_with(ALPHA), IMAGEC_PLUGINS="alpah"))
    assert "alpha" not in names(listing)
    assert failures(listing) == {"alpah": "IMAGEC_PLUGINS: no installed plugin is called 'alpah'"}
