//! Chapter 6: file descriptors on the wire. `sendmsg(2)` with an `SCM_RIGHTS` control
//! message puts fds beside the bytes; `recvmsg(2)` gives the receiver new fds that refer to
//! the same open files, under numbers of its own.
//!
//! Sending uses nix. Receiving walks the control buffer with libc's `CMSG_*` macros,
//! because nix's `RecvMsg::cmsgs()` returns `Err(ENOBUFS)` as soon as `MSG_CTRUNC` is set,
//! and then the fds that *did* fit are unreachable: they would leak.

use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::socket::{ControlMessage, MsgFlags, UnixAddr, sendmsg};

/// The kernel's limit of fds in one `SCM_RIGHTS` message (`SCM_MAX_FD`, unix(7)).
pub const MAX_FDS: usize = 253;

// ANCHOR: send_fds
/// Write `bytes` with `fds` attached, in one `sendmsg`. The fds travel with the first byte;
/// on a stream socket at least one byte must go with them (empty `bytes` is an
/// `InvalidInput` error). Returns how many bytes went
/// out (a blocking socket takes them all unless a signal interrupts it).
pub fn send_fds(sock: BorrowedFd<'_>, bytes: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<usize> {
    if bytes.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "fds need at least one byte to travel with on a stream socket",
        ));
    }
    let raw: Vec<RawFd> = fds.iter().map(|fd| fd.as_raw_fd()).collect();
    let cmsgs = [ControlMessage::ScmRights(&raw)];
    let cmsgs: &[ControlMessage<'_>] = if raw.is_empty() { &[] } else { &cmsgs };
    loop {
        match sendmsg::<UnixAddr>(
            sock.as_raw_fd(),
            &[IoSlice::new(bytes)],
            cmsgs,
            MsgFlags::MSG_NOSIGNAL,
            None,
        ) {
            Err(nix::errno::Errno::EINTR) => continue,
            result => return result.map_err(io::Error::from),
        }
    }
}
// ANCHOR_END: send_fds

/// What one `recvmsg` brought.
#[derive(Debug, Default)]
pub struct Received {
    /// Bytes read into the buffer; 0 is end of file.
    pub bytes: usize,
    /// The fds that arrived, each already owned (closed on drop) and close-on-exec.
    pub fds: Vec<OwnedFd>,
    /// `MSG_CTRUNC`: the control buffer was too small and the kernel closed the fds that
    /// did not fit. `fds` holds the ones that fit.
    pub truncated: bool,
}

/// The bytes a control buffer needs for `n` fds: `CMSG_SPACE(n * sizeof(int))`.
pub fn control_space(n: usize) -> usize {
    // SAFETY: CMSG_SPACE only computes a size.
    unsafe { libc::CMSG_SPACE((n * size_of::<RawFd>()) as u32) as usize }
}

// ANCHOR: recv_fds
/// Read into `buf` with room for `max_fds` fds of control data. Received fds are
/// close-on-exec (`MSG_CMSG_CLOEXEC`: without it they would leak into every program we
/// start) and owned at once, so none can leak, not even on `MSG_CTRUNC`.
pub fn recv_fds(sock: BorrowedFd<'_>, buf: &mut [u8], max_fds: usize) -> io::Result<Received> {
    // u64 elements: aligned for struct cmsghdr.
    let mut control = vec![0u64; control_space(max_fds).div_ceil(8)];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: an all-zero msghdr is valid (no name, no iovecs, no control data).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = control.len() * 8;
    let n = loop {
        // SAFETY: msg points at live buffers of the lengths it states.
        let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n >= 0 {
            break n as usize;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    };
    let mut fds = Vec::new();
    // Walk what the kernel wrote (msg_controllen now says how much), also when truncated.
    // SAFETY: the CMSG_* macros stay inside msg_control[..msg_controllen]; each SCM_RIGHTS
    // payload is an array of fds that are new in this process and owned by no one else.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let header = &*cmsg;
            if header.cmsg_level == libc::SOL_SOCKET && header.cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(cmsg).cast::<RawFd>();
                let payload = header.cmsg_len - libc::CMSG_LEN(0) as usize;
                for i in 0..payload / size_of::<RawFd>() {
                    fds.push(OwnedFd::from_raw_fd(data.add(i).read_unaligned()));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok(Received {
        bytes: n,
        fds,
        truncated: msg.msg_flags & libc::MSG_CTRUNC != 0,
    })
}
// ANCHOR_END: recv_fds
