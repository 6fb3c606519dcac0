"""Offline tooling: evaluation, metrics, plots, simulation, fitting, scripted and synthetic
sessions, pair evaluation.

The runtime (session, analysis, camera, cloud, audit, ui, runtime) never imports this
package; an import contract in pyproject.toml checks it. Its plotting and progress-bar
libraries (matplotlib, tqdm) come with the optional ``[lab]`` extra, imported only where they
are used, so ``kiosk`` runs without them.
"""
