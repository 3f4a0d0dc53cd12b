"""Bundle adjustment (ADBench): reprojection residuals vectorised over observations.

cams (n, 11): Rodrigues rotation (3), centre (3), focal length (1), principal point (2),
radial distortion (2); X (m, 3) points; w (p,) weights; feats (p, 2) observed features;
observation i sees point i % m from camera i % n (ADBench's layout). Residuals:

    reproj_err[i] = w[i] * (project(cams[cam_i], X[pt_i]) - feats[i])     (p, 2)
    w_err[i]      = 1 - w[i]^2                                             (p,)

The Jacobian is block sparse: row pair i depends only on camera cam_i, point pt_i and
w[i]. So every 2x15 block comes from two reverse sweeps, one per residual component,
taken in the per-observation copies of the parameters (cams[cam_idx], X[pt_idx], w);
a third sweep gives w_err's diagonal. Sizes: ADBench's ba1 (n=49, m=7776, p=31843),
with generated data. Rotations are never zero here, so Rodrigues' formula needs no
small-angle branch.
"""
import numpy as np

SIZES = {
    "tiny": dict(n=2, m=3, p=5),
    "small": dict(n=5, m=100, p=500),
    "full": dict(n=49, m=7776, p=31843),
}
ARGNUMS = (0, 1, 2)


def make_inputs(size):
    p = SIZES[size]
    rng = np.random.default_rng(0)
    n, m, nobs = p["n"], p["m"], p["p"]
    cams = np.concatenate([
        0.3 * rng.standard_normal((n, 3)) + 0.1,       # rotation (never zero)
        0.1 * rng.standard_normal((n, 3)),             # centre
        rng.uniform(0.5, 1.5, (n, 1)),                 # focal length
        0.1 * rng.standard_normal((n, 2)),             # principal point
        0.01 * rng.standard_normal((n, 2)),            # radial distortion
    ], axis=1)
    X = np.concatenate([rng.uniform(-1, 1, (m, 2)), rng.uniform(5, 10, (m, 1))], axis=1)
    w = rng.uniform(0.5, 1.5, nobs)
    feats = 0.1 * rng.standard_normal((nobs, 2))
    cam_idx = np.arange(nobs) % n
    pt_idx = np.arange(nobs) % m
    return cams, X, w, feats, cam_idx, pt_idx


def rodrigues_rotate(rot, X):
    theta = np.sqrt(np.sum(rot * rot, axis=1, keepdims=True))
    w = rot / theta
    costheta = np.cos(theta)
    tmp = np.sum(w * X, axis=1, keepdims=True) * (1 - costheta)
    return X * costheta + np.cross(w, X) * np.sin(theta) + w * tmp


def project(cam, X):
    Xcam = rodrigues_rotate(cam[:, 0:3], X - cam[:, 3:6])
    proj = Xcam[:, 0:2] / Xcam[:, 2:3]
    rsq = np.sum(proj * proj, axis=1, keepdims=True)
    distortion = 1 + cam[:, 9:10] * rsq + cam[:, 10:11] * rsq * rsq
    return proj * distortion * cam[:, 6:7] + cam[:, 7:9]


def reproj_error(cam, X, w, feats):
    return w[:, None] * (project(cam, X) - feats)


def forward(cams, X, w, feats, cam_idx, pt_idx):
    return reproj_error(cams[cam_idx], X[pt_idx], w, feats), 1 - w * w


def reproj_x(cam, X, w, feats):
    return np.sum(reproj_error(cam, X, w, feats)[:, 0])


def reproj_y(cam, X, w, feats):
    return np.sum(reproj_error(cam, X, w, feats)[:, 1])


def w_error(cam, X, w, feats):
    return np.sum(1 - w * w)


OBJECTIVES = [reproj_x, reproj_y, w_error]


def objective_args(cams, X, w, feats, cam_idx, pt_idx):
    return cams[cam_idx], X[pt_idx], w, feats


def assemble(results):
    """(reprojection blocks (p, 2, 15), w_err diagonal (p,)) from the three sweeps."""
    return results


def torch_objectives(torch):
    def rodrigues(rot, X):
        theta = torch.sqrt((rot * rot).sum(dim=1, keepdim=True))
        w = rot / theta
        costheta = torch.cos(theta)
        tmp = (w * X).sum(dim=1, keepdim=True) * (1 - costheta)
        return X * costheta + torch.linalg.cross(w, X) * torch.sin(theta) + w * tmp

    def err(cam, X, w, feats):
        Xcam = rodrigues(cam[:, 0:3], X - cam[:, 3:6])
        proj = Xcam[:, 0:2] / Xcam[:, 2:3]
        rsq = (proj * proj).sum(dim=1, keepdim=True)
        distortion = 1 + cam[:, 9:10] * rsq + cam[:, 10:11] * rsq * rsq
        return w[:, None] * (proj * distortion * cam[:, 6:7] + cam[:, 7:9] - feats)

    return [lambda cam, X, w, feats: err(cam, X, w, feats)[:, 0].sum(),
            lambda cam, X, w, feats: err(cam, X, w, feats)[:, 1].sum(),
            lambda cam, X, w, feats: (1 - w * w).sum()]
